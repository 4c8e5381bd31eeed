"""personas's part of exporting and deleting an account (`mybella.users.hooks`).

Imported once, from the app's `AppConfig.ready()`.
"""

from typing import Any

from mybella.users.hooks import AccountHook, account_hooks, delete_files_on_commit, export_rows
from mybella.users.models import User
from personas.lorebook import ENTRY_EDITABLE_FIELDS
from personas.models import LorebookEntry, PersonaProfile, PersonaSelection
from personas.selectors import lorebook_entry_list_for, persona_list_owned, persona_selection_get


def export(user: User) -> dict[str, Any]:
    """Return the personas the user made (avatars as their stored names), with their
    lorebooks, and the one the user is talking to (None: the default persona)."""
    own = persona_list_owned(user=user).values("id")  # a subquery: one query in all
    selection = persona_selection_get(user=user)
    return {
        "current_persona": selection.persona_id if selection is not None else None,
        "lorebook_entries": export_rows(
            lorebook_entry_list_for(personas=own),
            "id",
            "persona_id",
            *ENTRY_EDITABLE_FIELDS,
            "extra",
            "created_at",
            "updated_at",
        ),
        "personas": export_rows(
            persona_list_owned(user=user),
            "id",
            "slug",
            *PersonaProfile.EDITABLE_FIELDS,
            "avatar",
            "extensions",
            "created_at",
            "updated_at",
        ),
    }


def delete(user: User) -> None:
    """Remove the avatars of the user's personas once the deletion is committed.

    The rows go with the user (CASCADE); their files would stay behind without this.
    """
    delete_files_on_commit(
        persona.avatar
        for persona in persona_list_owned(user=user).exclude(avatar="").only("avatar")
    )


account_hooks.register(
    AccountHook(
        name="personas",
        models=(PersonaProfile, LorebookEntry, PersonaSelection),
        export=export,
        delete=delete,
    )
)
