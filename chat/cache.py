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

from django.db import transaction

from mybella.core.cache import bump


def chat_version(user_id: object) -> str:
    """Return the name of the version of what user `user_id`'s chat reads show."""
    return f"chat:user:{user_id}"


def chat_changed(*, user_id: object) -> None:
    """Make user `user_id`'s cached chat reads stale when the current transaction commits
    (at once outside one): one bump per user and transaction however many rows it writes.

    Only on commit: until then no other request sees the new rows, so a read there caches
    the old ones under the old version, which the bump at commit retires. A bump before the
    commit as well would only let such a read cache the old rows under a version the commit
    retires again, one more cache write held inside the transaction (on SQLite, inside its
    write lock). A rolled-back write bumps nothing: no other request saw it. No chat read is
    cached inside a transaction that writes chat rows (the cached reads are GETs).
    """
    name = chat_version(user_id)
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        # A bump already due at this commit stays due unless a savepoint holding it rolls
        # back, which takes this write back with it (savepoints nest).
        for _savepoints, func, _robust in connection.run_on_commit:
            if getattr(func, "chat_version", None) == name:
                return

    def bump_chat_version() -> None:
        bump(name)

    bump_chat_version.chat_version = name  # type: ignore[attr-defined]
    transaction.on_commit(bump_chat_version, robust=True)


def chat_row_changed(instance: Any, **kwargs: Any) -> None:
    """Signal receiver: a conversation or a message of `instance.user_id` changed."""
    chat_changed(user_id=instance.user_id)
