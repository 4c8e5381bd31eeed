"""chat's part of exporting and deleting an account (`mybella.users.hooks`).

Imported once, from the app's `AppConfig.ready()`.
"""

from typing import Any

from chat.models import ChatMessage, Conversation
from chat.selectors import conversation_list_owned, message_list_owned
from mybella.users.hooks import AccountHook, account_hooks, export_rows
from mybella.users.models import User


def export(user: User) -> dict[str, Any]:
    """Return all of the user's conversations and messages, whichever persona they are with.

    A persona the user can no longer see (a retired system persona) keeps its chats in the
    export: they are still the user's.
    """
    return {
        "conversations": export_rows(
            conversation_list_owned(user=user),
            "id",
            "persona_id",
            "title",
            "created_at",
            "updated_at",
        ),
        "messages": export_rows(
            message_list_owned(user=user).order_by("created_at", "id"),
            "id",
            "conversation_id",
            "persona_id",
            "role",
            "content",
            "alternatives",
            "selected",
            "status",
            "error",
            "provider",
            "model",
            "created_at",
        ),
    }


def delete(user: User) -> None:
    """Leave conversations and messages to the user's CASCADE: they keep no files."""


account_hooks.register(
    AccountHook(name="chat", models=(Conversation, ChatMessage), export=export, delete=delete)
)
