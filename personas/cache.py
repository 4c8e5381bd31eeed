"""The versions cached persona reads depend on (`mybella.core.cache`).

A user's persona reads (the list, the current persona) depend on two versions: the system
personas', which every user sees, and the user's own (their custom personas, their choice of
persona). A change to one user's persona or selection makes only that user's reads stale; a
change to a system persona, or one whose owner can't be told, makes everyone's stale.
"""

from typing import Any

from django.db import transaction

from mybella.core.cache import bump

SYSTEM_PERSONAS_VERSION = "personas"


def user_personas_version(user_id: object) -> str:
    """Return the name of the version of what user `user_id`'s persona reads show."""
    return f"personas:user:{user_id}"


def persona_versions(user: Any) -> list[str]:
    """Return the versions `user`'s cached persona reads depend on."""
    return [SYSTEM_PERSONAS_VERSION, user_personas_version(user.pk)]


def _owner_id(instance: object) -> object:
    """Return the id of the one user whose reads `instance` changes, or None for everyone."""
    if instance is None:
        return None
    if hasattr(instance, "is_custom"):  # a persona
        return instance.owner_id if instance.is_custom else None
    if getattr(instance, "user_id", None) is not None:  # a selection
        return instance.user_id
    if getattr(instance, "owner_id", None) is not None:  # a user's cloned voice
        return instance.owner_id
    if getattr(instance, "persona_id", None) is not None:  # a lorebook entry, a persona's voice
        # Only a persona already loaded with it: reading one here would cost a query per row
        # of a cascade. Otherwise everyone's reads are made stale, which is always right.
        persona = instance._state.fields_cache.get("persona")
        if persona is not None and persona.is_custom:
            return persona.owner_id
    return None


def personas_changed(instance: object = None, **kwargs: Any) -> None:
    """Make the cached persona reads `instance` shows in stale: now, and again on commit.

    Again on commit because a read between the two would have cached the old rows. A signal
    receiver as well (hence `**kwargs`), for every save and delete: a custom persona, its
    sections and a selection make their user's reads stale; anything else (a system persona,
    a voice preset, no instance) every user's.
    """
    owner_id = _owner_id(instance)
    name = SYSTEM_PERSONAS_VERSION if owner_id is None else user_personas_version(owner_id)
    bump(name)
    transaction.on_commit(lambda: bump(name), robust=True)
