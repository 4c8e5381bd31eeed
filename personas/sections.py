"""Sections another app adds to a persona: shown, validated and saved with the persona.

personas imports no app above it. An app that keeps something per persona (voices: the
persona's voice) registers a `PersonaSection` into `persona_sections` from its
`AppConfig.ready()`; the persona page, the API and the admin then take that section's
input along with the persona's own fields and save both in one transaction.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from rest_framework import serializers

from mybella.core.hooks import Registry
from personas.models import PersonaProfile


@dataclass(frozen=True)
class PersonaSection:
    """One app's part of a persona.

    `name` is the section's key: the API input nests it under that key.
    `form_class` is bound with `(data, files, user=..., persona=...)` on the page, and
    `template` is the partial rendered for it inside the persona form.
    `serializer_class` validates the API input; `represent(persona)` returns the API
    output, merged into the persona's own (flat keys).
    `save(*, persona, user, data)` runs inside the transaction saving the persona.
    `copy(source, target)`, if any, carries the section over to a duplicated persona.
    `initial(persona)`, if any, returns the form's values for an existing persona (the
    page fills its edit modal with them).
    `select_related` and `prefetch_related` name the relations `represent` reads, for the
    persona querysets.
    `render_key()`, if any, returns what the unbound form's markup shows beyond the
    rows of its fields' querysets (server settings, say): the page caches that markup
    (`personas.views`) under these, and under each such row's id and last change.
    `listed`: whether lists of personas show it too (the API's list, the page's data); a
    section that can grow large (the lorebook) is shown with one persona only.
    """

    name: str
    form_class: type[forms.Form]
    template: str
    serializer_class: type[serializers.Serializer]
    represent: Callable[[PersonaProfile], dict[str, Any]]
    save: Callable[..., None]
    copy: Callable[[PersonaProfile, PersonaProfile], None] | None = None
    initial: Callable[[PersonaProfile], dict[str, Any]] | None = None
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()
    render_key: Callable[[], Any] | None = None
    listed: bool = True


persona_sections: Registry[PersonaSection] = Registry("persona_sections")


def shown_sections(*, listing: bool) -> list[PersonaSection]:
    """Return the registered sections shown with a persona, or in a list of personas."""
    return [section for section in persona_sections if section.listed or not listing]


def section_select_related(*, listing: bool = False) -> tuple[str, ...]:
    """Return the relations the sections shown read, for the persona querysets."""
    return tuple(
        name for section in shown_sections(listing=listing) for name in section.select_related
    )


def section_prefetch_related(*, listing: bool = False) -> tuple[str, ...]:
    """Return the many-valued relations the sections shown read (prefetched)."""
    return tuple(
        name for section in shown_sections(listing=listing) for name in section.prefetch_related
    )


def section_initial(persona: PersonaProfile) -> dict[str, Any]:
    """Return the page form's values of every registered section for `persona`."""
    values: dict[str, Any] = {}
    for section in persona_sections:
        if section.initial is not None:
            values.update(section.initial(persona))
    return values
