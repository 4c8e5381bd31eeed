"""memory's part of exporting and deleting an account (`mybella.users.hooks`).

Imported once, from the app's `AppConfig.ready()`.
"""

from typing import Any

from django.db.models import QuerySet

from memory.models import ConversationMemory, MemoryEvent, MemorySettings, UserPreference
from memory.selectors import memory_list_for_user
from mybella.users.hooks import AccountHook, account_hooks, export_rows
from mybella.users.models import User

# Reads for the export only: all of a user's rows, whichever persona holds them. The
# selectors serve one (user, persona) pair at a time.


def memory_event_list_for_user(*, user: User) -> QuerySet[MemoryEvent]:
    """Return the history of all of `user`'s memories, oldest first."""
    return MemoryEvent.objects.filter(user=user).order_by("created_at", "id")


def preference_list_for_user(*, user: User) -> QuerySet[UserPreference]:
    """Return all of `user`'s preferences, for every persona."""
    return UserPreference.objects.filter(user=user).order_by("persona_id", "key")


def memory_settings_list_for_user(*, user: User) -> QuerySet[MemorySettings]:
    """Return `user`'s remember switches, for every persona that has one."""
    return MemorySettings.objects.filter(user=user).order_by("persona_id")


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
            "created_at",
            "updated_at",
        ),
        "memory_history": export_rows(
            memory_event_list_for_user(user=user),
            "memory_id",
            "persona_id",
            "action",
            "actor",
            "content_before",
            "content_after",
            "created_at",
        ),
        "preferences": export_rows(
            preference_list_for_user(user=user), "persona_id", "key", "value"
        ),
        "memory_settings": export_rows(
            memory_settings_list_for_user(user=user), "persona_id", "remember"
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
