"""A persona's lorebook (World Info): its entries, how they change, and what joins a prompt.

An entry joins the prompt answering a message when one of its keys is in the most recent
messages (the book's scan depth), or always when it is constant, as the V2 character card
spec and SillyTavern have it: keys match case-insensitively unless the entry says otherwise;
a selective entry also needs one of its secondary keys (SillyTavern's `selectiveLogic`
extension, when the card has one, picks AND ANY, NOT ALL, NOT ANY or AND ALL); entries are
kept while they fit the book's token budget, the highest insertion order first, and are
inserted lowest order first, before or after the character's profile.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from mybella.core import limits
from mybella.core.services import service
from mybella.users.models import User
from personas import selectors
from personas.cards import ENTRY_FIELDS
from personas.macros import fill_macros
from personas.models import LorebookEntry, PersonaProfile
from personas.services import persona_ensure_editable

DEFAULT_SCAN_DEPTH = 4  # messages, the one being answered included
MAX_SCAN_DEPTH = 100
DEFAULT_TOKEN_BUDGET = 512
MAX_TOKEN_BUDGET = 8192
# What a client sets on an entry; `extra` (the card's other fields) is kept by the server.
ENTRY_EDITABLE_FIELDS = tuple(ENTRY_FIELDS)
# SillyTavern's extensions.selectiveLogic values.
AND_ANY, NOT_ALL, NOT_ANY, AND_ALL = 0, 1, 2, 3


def entry_fields(entry: LorebookEntry) -> dict[str, Any]:
    """Return an entry as the card codec's fields (`personas.cards.entry_to_card`)."""
    return {
        **{name: getattr(entry, name) for name in ENTRY_EDITABLE_FIELDS},
        "extra": entry.extra,
    }


# Writes


def _clean_keys(keys: Iterable[str]) -> list[str]:
    return [key.strip() for key in keys if key.strip()]


@service
@transaction.atomic
def lorebook_set(
    *, persona: PersonaProfile, user: User, entries: Sequence[Mapping[str, Any]]
) -> list[LorebookEntry]:
    """Make `entries` the persona's lorebook, in their order; return the entries saved.

    An entry with the `id` of one of the persona's entries changes it (its card fields in
    `extra` stay); one without an id is new; the persona's entries not given are deleted.
    An id of anything else is a ValidationError, as is an entry the model refuses.
    """
    persona_ensure_editable(persona=persona, user=user)
    if len(entries) > limits.LOREBOOK_ENTRIES_MAX:
        raise ValidationError(
            {"lorebook": _("A lorebook holds at most %d entries.") % limits.LOREBOOK_ENTRIES_MAX}
        )
    existing = {entry.pk: entry for entry in selectors.lorebook_entry_list(persona=persona)}
    saved: list[LorebookEntry] = []
    for index, data in enumerate(entries):
        unknown = set(data) - {*ENTRY_EDITABLE_FIELDS, "id", "extra"}
        if unknown:
            raise TypeError(f"lorebook_set() got unexpected entry fields: {sorted(unknown)}")
        pk = data.get("id")
        if pk is not None:
            if pk not in existing:
                raise ValidationError({"lorebook": _("Entry %d is not in this lorebook.") % pk})
            entry = existing.pop(pk)
        else:
            entry = LorebookEntry(persona=persona, extra=dict(data.get("extra") or {}))
        for name in ENTRY_EDITABLE_FIELDS:
            if name in data:
                value = data[name]
                setattr(entry, name, _clean_keys(value) if name.endswith("keys") else value)
        try:
            entry.full_clean(exclude=["persona"])
        except ValidationError as error:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
            )
            raise ValidationError(
                {
                    "lorebook": _("Entry %(number)d: %(problems)s")
                    % {"number": index + 1, "problems": problems}
                }
            ) from error
        entry.save()
        saved.append(entry)
    if existing:
        LorebookEntry.objects.filter(persona=persona, pk__in=list(existing)).delete()
    return saved


def lorebook_copy(source: PersonaProfile, target: PersonaProfile) -> None:
    """Give `target` a copy of `source`'s lorebook (a duplicated persona)."""
    LorebookEntry.objects.bulk_create(
        LorebookEntry(persona=target, **entry_fields(entry))
        for entry in selectors.lorebook_entry_list(persona=source)
    )


# What joins a prompt


@dataclass(frozen=True)
class BookSettings:
    scan_depth: int = DEFAULT_SCAN_DEPTH
    token_budget: int = DEFAULT_TOKEN_BUDGET


def book_settings(persona: PersonaProfile) -> BookSettings:
    """Return the book's scan depth and token budget: the card's, within bounds, else defaults."""
    card = (persona.extensions or {}).get("card") if isinstance(persona.extensions, dict) else None
    book = card.get("character_book") if isinstance(card, dict) else None
    book = book if isinstance(book, dict) else {}

    def bounded(key: str, default: int, most: int) -> int:
        value = book.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return min(value, most)
        return default

    return BookSettings(
        scan_depth=bounded("scan_depth", DEFAULT_SCAN_DEPTH, MAX_SCAN_DEPTH),
        token_budget=bounded("token_budget", DEFAULT_TOKEN_BUDGET, MAX_TOKEN_BUDGET),
    )


def _mentions(text: str, folded: str, key: str, *, case_sensitive: bool) -> bool:
    return key in text if case_sensitive else key.casefold() in folded


def _triggered(entry: LorebookEntry, text: str) -> bool:
    """Return whether `entry`'s keys (and secondary keys, if selective) are in `text`."""
    folded = text.casefold()
    found = [
        _mentions(text, folded, key, case_sensitive=entry.case_sensitive)
        for key in entry.keys
        if key
    ]
    if not any(found):
        return False
    secondary = [key for key in entry.secondary_keys if key]
    if not entry.selective or not secondary:
        return True
    hits = [_mentions(text, folded, key, case_sensitive=entry.case_sensitive) for key in secondary]
    extensions = entry.extra.get("extensions") if isinstance(entry.extra, dict) else None
    logic = extensions.get("selectiveLogic", AND_ANY) if isinstance(extensions, dict) else AND_ANY
    return {
        NOT_ALL: not all(hits),
        NOT_ANY: not any(hits),
        AND_ALL: all(hits),
    }.get(logic, any(hits))


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)  # the prompt builder's estimate


def lorebook_prompt(
    *, persona: PersonaProfile, recent: Sequence[str], char: str, user: str
) -> tuple[str, str]:
    """Return the lorebook text to put before and after the persona's profile.

    `recent` are the conversation's latest messages, newest first (the one being answered
    first); only the book's scan depth of them is read. Only this persona's entries are
    looked at; their macros are filled with `char` and `user`.
    """
    entries = selectors.lorebook_entry_list_enabled(persona=persona)
    if not entries:
        return "", ""
    settings = book_settings(persona)
    scanned = "\n".join(recent[: settings.scan_depth])
    active = [entry for entry in entries if entry.constant or _triggered(entry, scanned)]
    # Constant entries first, then the highest insertion order, while the budget lasts.
    kept, budget = [], settings.token_budget
    for entry in sorted(active, key=lambda e: (not e.constant, -e.insertion_order, e.pk)):
        cost = _tokens(entry.content)
        if cost <= budget and entry.content.strip():
            kept.append(entry)
            budget -= cost
    kept.sort(key=lambda e: (e.insertion_order, e.pk))
    parts: dict[str, list[str]] = {position: [] for position in LorebookEntry.Position.values}
    for entry in kept:
        parts[entry.position].append(fill_macros(entry.content.strip(), char=char, user=user))
    return (
        "\n".join(parts[LorebookEntry.Position.BEFORE_CHAR]),
        "\n".join(parts[LorebookEntry.Position.AFTER_CHAR]),
    )
