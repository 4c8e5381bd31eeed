"""Reads of personas: every query a user's request makes goes through here."""

import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Q, QuerySet

from mybella.core.errors import NotFound
from mybella.core.rows import field_converter
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


def _valid_pk(pk: object) -> int:
    """Return `pk` as an id the database can look up; raise NotFound for anything else."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound from None
    if not 0 < pk < 2**63:  # beyond a bigint the database would fail, not find nothing
        raise NotFound
    return pk


def _get(queryset: PersonaQuerySet, pk: object) -> PersonaProfile:
    try:
        return queryset.get(pk=_valid_pk(pk))
    except PersonaProfile.DoesNotExist:
        raise NotFound from None


def persona_get_visible(
    *, user: User, pk: object, select_related: tuple[str, ...] = ()
) -> PersonaProfile:
    """Return the persona `pk` if `user` may see it; raise NotFound otherwise (or for a bad id).

    Every request nested under a persona asks this first. Without `select_related`, for a
    signed-in user, it runs `persona_list_visible`'s statement compiled once per process
    and database (`_visible_statement`): building and compiling the queryset each time
    cost more than the query.
    """
    if select_related or user is None or not user.is_authenticated:
        return _get(persona_list_visible(user=user).select_related(*select_related), pk)
    pk = _valid_pk(pk)
    alias = PersonaProfile.objects.db
    sql, params, converters = _visible_statement(alias)
    values = [user.pk if p == _USER else pk if p == _PK else p for p in params]
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        raise NotFound
    return PersonaProfile.from_db(
        alias, _COLUMNS, [convert(value) for convert, value in zip(converters, row, strict=True)]
    )


# Stand-ins for the caller's id and the persona's, replaced in the compiled parameters.
_USER, _PK = -(2**62) - 1, -(2**62) - 2
_COLUMNS = [field.attname for field in PersonaProfile._meta.concrete_fields]


@functools.cache
def _visible_statement(
    alias: str,
) -> tuple[str, tuple[object, ...], tuple[Callable[[Any], Any], ...]]:
    # `persona_list_visible(user).filter(pk=pk)` for the stand-ins, compiled as the ORM would
    # (one rule, its Q), and the converters the ORM applies to each column it selects.
    query = persona_list_visible(user=User(pk=_USER)).filter(pk=_PK).order_by().query
    compiler = query.get_compiler(alias)
    sql, params = compiler.as_sql()
    if [column.target.attname for column, *_ in compiler.select] != _COLUMNS:
        raise AssertionError("the visible-persona statement selects other columns")
    if [p for p in params if p in (_USER, _PK)] != [_USER, _PK]:
        raise AssertionError("the visible-persona statement takes other parameters")
    converters = tuple(field_converter(PersonaProfile, name) for name in _COLUMNS)
    return sql, tuple(params), converters


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


def lorebook_entry_list_for(*, personas: Iterable[int] | QuerySet) -> QuerySet[LorebookEntry]:
    """Return the lorebook entries of the personas with the ids `personas` (resolved already).

    `personas` may be a queryset of ids, read as a subquery.
    """
    return LorebookEntry.objects.filter(persona_id__in=personas).order_by("persona_id", "id")
