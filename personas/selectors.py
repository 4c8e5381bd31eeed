"""Reads of personas: every query a user's request makes goes through here."""

from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q, QuerySet

from mybella.core.errors import NotFound
from mybella.core.rows import CompiledQuery, valid_id
from mybella.users.models import User
from personas.models import LorebookEntry, PersonaProfile, PersonaQuerySet, PersonaSelection
from personas.sections import section_prefetch_related, section_select_related


def _with_sections(
    queryset: PersonaQuerySet, with_sections: bool, listing: bool = False
) -> PersonaQuerySet:
    if not with_sections:
        return queryset
    return queryset.select_related(*section_select_related(listing=listing)).prefetch_related(
        *section_prefetch_related(listing=listing)
    )


def persona_list_visible(
    *, user: User | None, with_sections: bool = False, listing: bool = False
) -> PersonaQuerySet:
    """Return the personas `user` may see: the active system ones and the user's own.

    `with_sections` selects what the registered persona sections show with each (`listing`:
    those a list of personas shows, `personas.sections.shown_sections`).
    """
    visible = Q(is_custom=False, is_active=True)
    if user is not None and user.is_authenticated:
        visible |= Q(is_custom=True, owner=user)
    return _with_sections(PersonaProfile.objects.filter(visible), with_sections, listing)


def _get(queryset: PersonaQuerySet, pk: object) -> PersonaProfile:
    try:
        return queryset.get(pk=valid_id(pk))
    except PersonaProfile.DoesNotExist:
        raise NotFound from None


def persona_get_visible(
    *, user: User, pk: object, select_related: tuple[str, ...] = ()
) -> PersonaProfile:
    """Return the persona `pk` if `user` may see it; raise NotFound otherwise (or for a bad id).

    Every request nested under a persona asks this first. Without `select_related`, for a
    signed-in user, it runs `persona_list_visible`'s statement compiled once per process
    and database (`_VISIBLE`): building and compiling the queryset each time cost more
    than the query.
    """
    if select_related or user is None or not user.is_authenticated:
        return _get(persona_list_visible(user=user).select_related(*select_related), pk)
    found = _VISIBLE.rows(user.pk, valid_id(pk))
    if not found:
        raise NotFound
    return found[0][0]


_VISIBLE = CompiledQuery(
    lambda user_id, pk: persona_list_visible(user=User(pk=user_id)).filter(pk=pk).order_by(),
    models=(PersonaProfile,),
)


def persona_get_owned(*, user: User, pk: object) -> PersonaProfile:
    """Return the custom persona `pk` if `user` made it; raise NotFound otherwise.

    For changing or deleting from the user's own pages: a system persona is not theirs
    to change, so it reads as missing there too.
    """
    return _get(persona_list_owned(user=user), pk)


def persona_list_system() -> PersonaQuerySet:
    """Return the active system personas in their curated order."""
    return PersonaProfile.objects.system().active()


def persona_list_owned(
    *, user: User, with_sections: bool = False, listing: bool = False
) -> PersonaQuerySet:
    """Return the custom personas `user` made, newest first (`with_sections`, `listing`: as
    above)."""
    owned = PersonaProfile.objects.custom().filter(owner=user).order_by("-created_at", "-id")
    return _with_sections(owned, with_sections, listing)


def persona_slug_taken(*, slug: str) -> bool:
    """Return whether any persona, of any user, has the slug `slug`."""
    return PersonaProfile.objects.filter(slug=slug).exists()


def persona_system_names() -> list[str]:
    """Return the names of every system persona, active or not."""
    return list(PersonaProfile.objects.system().values_list("name", flat=True))


def persona_get_default() -> PersonaProfile | None:
    """Return the default persona: the configured one, else the first active system persona."""
    system = persona_list_system()
    return system.filter(slug=settings.DEFAULT_PERSONA_SLUG).first() or system.first()


def persona_selection_get(*, user: User) -> PersonaSelection | None:
    """Return the user's choice of persona (with the persona), or None if they made none."""
    return PersonaSelection.objects.select_related("persona").filter(user=user).first()


def persona_get_current(*, user: User) -> PersonaProfile | None:
    """Return the persona `user` is talking to, falling back to the default persona.

    A current persona that was deleted, deactivated or is no longer visible to the
    user counts as none.
    """
    selection = persona_selection_get(user=user)
    current = selection.persona if selection is not None else None
    if (
        current is not None
        and current.is_active
        and (not current.is_custom or current.owner_id == user.pk)
    ):
        return current
    return persona_get_default()


def lorebook_entry_list(*, persona: PersonaProfile) -> QuerySet[LorebookEntry]:
    """Return the lorebook entries of `persona` (resolved for the caller), in the book's order."""
    return LorebookEntry.objects.filter(persona=persona).order_by("id")


def lorebook_entry_list_enabled(*, persona: PersonaProfile) -> list[LorebookEntry]:
    """Return the enabled lorebook entries of `persona` (resolved already), in the book's order.

    Every prompt reads them, most often to find none: the statement is compiled once per
    process (`_ENABLED_ENTRIES`), where building it cost a send 0.5–0.8 ms.
    """
    return [entry for (entry,) in _ENABLED_ENTRIES.rows(persona.pk)]


_ENABLED_ENTRIES = CompiledQuery(
    lambda persona_id: LorebookEntry.objects.filter(persona_id=persona_id, enabled=True).order_by(
        "id"
    ),
    models=(LorebookEntry,),
)


def lorebook_entry_list_for(*, personas: Iterable[int] | QuerySet) -> QuerySet[LorebookEntry]:
    """Return the lorebook entries of the personas with the ids `personas` (resolved already).

    `personas` may be a queryset of ids, read as a subquery.
    """
    return LorebookEntry.objects.filter(persona_id__in=personas).order_by("persona_id", "id")
