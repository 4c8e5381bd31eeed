"""memory's part of exporting and deleting an account (`mybella.users.hooks`).

Imported once, from the app's `AppConfig.ready()`.
"""

from typing import Any

from memory.models import ConversationMemory, MemoryEvent, MemorySettings, UserPreference
from memory.selectors import (
    memory_event_list_for_user,
    memory_list_for_user,
    memory_settings_list_for_user,
    preference_list_for_user,
)
from mybella.users.hooks import AccountHook, account_hooks, export_rows
from mybella.users.models import User


def export(user: User) -> dict[str, Any]:
    """Return what personas remember about the user, its history, preferences and switches."""
    return {
        "memories": export_rows(
            memory_list_for_user(user=user),
            "id",
            "persona_id",
            "content",
            "kind",
            "importance",
            "pinned",
            "covers_from",
            "covers_to",
            "happened_on",
            "superseded_by_id",
            "created_at",
            "updated_at",
        ),
        "memory_history": export_rows(
            memory_event_list_for_user(user=user).order_by("created_at", "id"),
            "memory_id",
            "persona_id",
            "action",
            "actor",
            "content_before",
            "content_after",
            "created_at",
        ),
        "preferences": export_rows(
            preference_list_for_user(user=user).order_by("persona_id", "key"),
            "persona_id",
            "key",
            "value",
        ),
        "memory_settings": export_rows(
            memory_settings_list_for_user(user=user).order_by("persona_id"),
            "persona_id",
            "remember",
        ),
    }


def delete(user: User) -> None:
    """Leave memories, their history, preferences and switches to the user's CASCADE."""


account_hooks.register(
    AccountHook(
        name="memory",
        models=(ConversationMemory, MemoryEvent, UserPreference, MemorySettings),
        export=export,
        delete=delete,
    )
)
