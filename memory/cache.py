"""The version cached memory reads depend on (`mybella.core.cache`): a memory search.

What a user's searches show depends on one version per user for their memories (and on
`chat.cache`'s for their messages): any change to one of the user's memories, or to the
messages it came from, makes all of that user's memory reads stale, and no one else's. Saves
of a memory and changes to its source messages say so through signals (`memory.receivers`);
the services that write with `.update()` or delete call `memories_changed` themselves, since
those send no signal (a cascade's deletes are not a receiver's: a persona's or an account's
deletion would load every memory to send one per row).
"""

from typing import Any

from mybella.core.cache import bump_on_commit


def memory_version(user_id: object) -> str:
    """Return the name of the version of what user `user_id`'s memory reads show."""
    return f"memory:user:{user_id}"


def memories_changed(*, user_id: object) -> None:
    """Make user `user_id`'s cached memory reads stale when the current transaction commits
    (at once outside one; `mybella.core.cache.bump_on_commit`)."""
    bump_on_commit(memory_version(user_id))


def memory_row_changed(instance: Any, **kwargs: Any) -> None:
    """Signal receiver: a memory of `instance.user_id`, or its sources, changed (for a source
    link changed from the message's side, `instance` is the message: its user is the same)."""
    if kwargs.get("action", "post_").startswith("post_"):  # m2m_changed: after, not before
        memories_changed(user_id=instance.user_id)
