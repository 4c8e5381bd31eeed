"""The version cached chat reads depend on (`mybella.core.cache`).

A user's history (a conversation's messages) and conversation lists depend on one version
per user: any write to one of the user's conversations or messages makes all of that user's
chat reads stale, and no one else's. Saves and deletes of a conversation and saves of a
message say so through signals (`chat.receivers`); the services that write with `.update()`,
`bulk_create()` or delete a message call `chat_changed` themselves, since those send no
signal (a message's delete is not a signal receiver's: a conversation's cascade would then
bump once per message).
"""

from typing import Any

from mybella.core.cache import bump_on_commit


def chat_version(user_id: object) -> str:
    """Return the name of the version of what user `user_id`'s chat reads show."""
    return f"chat:user:{user_id}"


def chat_changed(*, user_id: object) -> None:
    """Make user `user_id`'s cached chat reads stale when the current transaction commits
    (at once outside one; `mybella.core.cache.bump_on_commit`). No chat read is cached
    inside a transaction that writes chat rows (the cached reads are GETs)."""
    bump_on_commit(chat_version(user_id))


def chat_row_changed(instance: Any, **kwargs: Any) -> None:
    """Signal receiver: a conversation or a message of `instance.user_id` changed."""
    chat_changed(user_id=instance.user_id)
