"""How a persona's input is cleaned, the same for every way in (page, API, admin, cards).

The numbers (how long, how many) are declared once in `mybella.core.limits` and sit on
the model's fields; this module reads them from there. What it adds is cleaning: traits
are stripped, emptied ones dropped and case-insensitive duplicates removed.

Two modes, one rule:

- `strict`, for traits a person or a MyBella card gave: a trait too long or too many
  traits is an error, so nothing the person wrote is dropped without them knowing.
- `lenient`, for traits *guessed* from another tool's card (its tags or personality):
  a trait too long is skipped and only the first ones are kept.
"""

import re
from typing import Literal

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext as _

from mybella.core import limits
from personas.models import PersonaProfile

TraitsMode = Literal["strict", "lenient"]
MODES = ("strict", "lenient")


def clean_traits(items: object, *, mode: TraitsMode = "strict") -> list[str]:
    """Return `items` as clean traits: stripped, no empties, no case-insensitive duplicates.

    The first spelling of a duplicate is kept. Raise `ValidationError` (code "invalid")
    unless `items` is a list of strings. In `strict` mode also raise one for a trait over
    PERSONA_TRAIT_MAX_CHARS (code "max_length") or more than PERSONA_TRAITS_MAX traits
    (code "too_many"); in `lenient` mode skip the first and keep the first traits instead.
    """
    if mode not in MODES:
        raise ValueError(f"clean_traits: mode is 'strict' or 'lenient', not {mode!r}.")
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise ValidationError(_("Traits must be a list of words."), code="invalid")
    traits: list[str] = []
    seen: set[str] = set()
    for item in items:
        trait = item.strip()
        if not trait or trait.casefold() in seen:
            continue
        if len(trait) > limits.PERSONA_TRAIT_MAX_CHARS:
            if mode == "lenient":
                continue
            raise ValidationError(
                _("“%(trait)s” is too long: keep each trait to at most %(max)d characters."),
                code="max_length",
                params={"trait": trait[:20] + "…", "max": limits.PERSONA_TRAIT_MAX_CHARS},
            )
        seen.add(trait.casefold())
        traits.append(trait)
    if len(traits) > limits.PERSONA_TRAITS_MAX:
        if mode == "lenient":
            return traits[: limits.PERSONA_TRAITS_MAX]
        raise ValidationError(
            _("Give at most %(max)d traits."),
            code="too_many",
            params={"max": limits.PERSONA_TRAITS_MAX},
        )
    return traits


def traits_from_text(text: str, *, mode: TraitsMode = "strict") -> list[str]:
    """Return the traits of `text`, separated by commas or line breaks, cleaned by
    `clean_traits`."""
    return clean_traits(re.split(r"[,\r\n]", text), mode=mode)


def field_max_chars(name: str) -> int | None:
    """Return the most characters the persona field `name` holds, or None if unbounded.

    Read from the model field (its `max_length`, else its `MaxLengthValidator`), so forms,
    serializers and the card codec follow the model whatever its numbers are.
    """
    field = PersonaProfile._meta.get_field(name)
    if getattr(field, "max_length", None):
        return field.max_length
    return next(
        (v.limit_value for v in field.validators if isinstance(v, MaxLengthValidator)), None
    )
