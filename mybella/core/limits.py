"""The limits on what comes in, declared once for every way in (API, pages, imports, admin).

Services enforce them: they are the one write path. Model fields use the validators below,
so `full_clean()` (called by the services and by the admin's forms) checks them too. Forms
and serializers repeat a limit only to answer with a friendlier message.
"""

import json
import math
import re
import unicodedata
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

# Personas (characters, unless said otherwise). Long enough for the character cards people
# really share (a SillyTavern description or first message runs to thousands of characters);
# the prompt builder fits whatever is stored into its budget.
PERSONA_NAME_MAX_CHARS = 80
PERSONA_TAGLINE_MAX_CHARS = 140
PERSONA_BIO_MAX_CHARS = 20_000
PERSONA_NOTES_MAX_CHARS = 1000
PERSONA_GREETING_MAX_CHARS = 8000
PERSONA_EXAMPLE_DIALOGUE_MAX_CHARS = 20_000
PERSONA_SYSTEM_PROMPT_MAX_CHARS = 10_000
PERSONA_TRAITS_MAX = 12
PERSONA_TRAIT_MAX_CHARS = 40
PERSONA_CREATOR_NOTES_MAX_CHARS = 10_000
PERSONA_ALTERNATE_GREETINGS_MAX = 30
# Lorebook (World Info) entries of a persona's character card.
LOREBOOK_ENTRIES_MAX = 200
LOREBOOK_KEYS_MAX = 50
LOREBOOK_KEY_MAX_CHARS = 200
LOREBOOK_CONTENT_MAX_CHARS = 10_000
LOREBOOK_COMMENT_MAX_CHARS = 200
LOREBOOK_EXTRA_MAX_BYTES = 64 * 1024
# Card fields MyBella keeps only to export them again (lorebooks can be long).
PERSONA_EXTENSIONS_MAX_BYTES = 1024 * 1024
PERSONA_FIELD_MAX_CHARS = {
    "name": PERSONA_NAME_MAX_CHARS,
    "tagline": PERSONA_TAGLINE_MAX_CHARS,
    "bio": PERSONA_BIO_MAX_CHARS,
    "communication_notes": PERSONA_NOTES_MAX_CHARS,
    "greeting": PERSONA_GREETING_MAX_CHARS,
    "example_dialogue": PERSONA_EXAMPLE_DIALOGUE_MAX_CHARS,
    "system_prompt": PERSONA_SYSTEM_PROMPT_MAX_CHARS,
    "creator_notes": PERSONA_CREATOR_NOTES_MAX_CHARS,
}

# Memory.
MEMORY_MAX_CHARS = 1000
PREFERENCE_KEY_MAX_CHARS = 50
PREFERENCE_VALUE_MAX_CHARS = 500
PREFERENCES_MAX_PER_PERSONA = 20

# Search: a query longer than this is refused; each result is cut to a snippet this long.
SEARCH_QUERY_MAX_CHARS = 500
SNIPPET_MAX_CHARS = 300

# JSON from clients and files: deeper nesting is refused, integers must fit 64 bits.
JSON_MAX_DEPTH = 32
JSON_MAX_INT = 2**63 - 1

# NUL can't be stored by PostgreSQL; a lone surrogate can't be encoded as UTF-8 at all.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


# One-line text (a persona's name, tagline, traits) holds no line break or other control
# character, nor the marks that reorder how text around them is shown (U+202A to U+202E,
# U+2066 to U+2069): it is shown in lists and read into prompts as one line.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_WHITESPACE_CONTROLS = re.compile("[\t\n\x0b\x0c\r\x85\u2028\u2029]+")


def line_problem(text: str) -> str | None:
    """Return why `text` is not one line of plain text (a control or reordering mark), or None."""
    found = _NOT_ONE_LINE.search(text)
    if found is None:
        return None
    if found.group() in "\n\r\x85\u2028\u2029":
        return _("holds a line break; keep it to one line")
    return _("holds an invisible control character (U+%04X)") % ord(found.group())


# Letters fonts draw as nothing (the Hangul fillers, the blank braille pattern); with the
# format marks (Unicode's Cf: zero-width spaces and joiners, the soft hyphen, …) and spaces
# they make text that looks empty but isn't.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def shows_nothing(text: str) -> bool:
    """Return whether `text` looks empty: only spaces, format marks and letters drawn blank.

    A name such as "\u200b" passes a plain blank check yet shows as nothing in every list.
    """
    return all(
        char.isspace() or char in _BLANK_LETTERS or unicodedata.category(char) == "Cf"
        for char in text
    )


def one_line(text: str) -> str:
    """Return `text` as one line: line breaks and tabs become spaces, other controls go."""
    return _NOT_ONE_LINE.sub("", _WHITESPACE_CONTROLS.sub(" ", text)).strip()


def message_max_chars() -> int:
    """Return the longest chat message, sent or imported (CHAT_MESSAGE_MAX_CHARS)."""
    return settings.CHAT_MESSAGE_MAX_CHARS


def text_problem(text: str) -> str | None:
    """Return why `text` can't be stored (a NUL or a lone surrogate), or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return _("contains a NUL character")
    return _("contains a lone surrogate (U+%04X), which isn't valid Unicode") % ord(found.group())


def validate_storable_text(value: object) -> None:
    """Refuse text holding characters a database can't store."""
    if isinstance(value, str) and (problem := text_problem(value)):
        raise ValidationError(_("This text %s.") % problem, code="unstorable")


def json_problem(value: Any, *, max_depth: int = JSON_MAX_DEPTH) -> str | None:
    """Return why a parsed JSON value can't be accepted, or None.

    Walk it without recursion, so that no nesting depth can exhaust the stack: refuse
    nesting deeper than `max_depth`, keys and strings `text_problem` refuses, numbers that
    are not finite, and integers beyond 64 bits.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return _("a string %s") % problem
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) > JSON_MAX_INT:
                return _("a number is too large")
        elif isinstance(item, float):
            if not math.isfinite(item):
                return _("a number is not finite (%s)") % item
        elif isinstance(item, dict | list):
            if depth > max_depth:
                return _("it is nested more than %d levels deep") % max_depth
            if isinstance(item, dict):
                for key in item:
                    problem = text_problem(key) if isinstance(key, str) else None
                    if problem:
                        return _("a key %s") % problem
                stack.extend((child, depth + 1) for child in item.values())
            else:
                stack.extend((child, depth + 1) for child in item)
    return None


@deconstructible
class JSONDocumentValidator:
    """Refuse a JSON field value that `json_problem` refuses or that is too large."""

    def __init__(self, max_bytes: int, *, max_depth: int = JSON_MAX_DEPTH) -> None:
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    def __call__(self, value: Any) -> None:
        problem = json_problem(value, max_depth=self.max_depth)
        if problem:
            raise ValidationError(_("This can't be stored: %s.") % problem, code="invalid_json")
        size = len(json.dumps(value, ensure_ascii=False).encode())
        if size > self.max_bytes:
            raise ValidationError(
                _("This is %(size)d bytes of JSON; keep it under %(max)d.")
                % {"size": size, "max": self.max_bytes},
                code="too_large",
            )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, JSONDocumentValidator)
            and self.max_bytes == other.max_bytes
            and self.max_depth == other.max_depth
        )

    def __hash__(self) -> int:
        return hash((self.max_bytes, self.max_depth))


def validate_json_object(value: object) -> None:
    """Refuse a JSON value that is not an object."""
    if not isinstance(value, dict):
        raise ValidationError(_("This must be a JSON object."), code="invalid")


def validate_traits(value: object) -> None:
    """Refuse traits that aren't a short list of short strings."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(_("Traits must be a list of words."), code="invalid")
    if len(value) > PERSONA_TRAITS_MAX:
        raise ValidationError(_("Give at most %d traits.") % PERSONA_TRAITS_MAX, code="too_many")
    for trait in value:
        if len(trait) > PERSONA_TRAIT_MAX_CHARS:
            raise ValidationError(
                _("Keep each trait to at most %d characters.") % PERSONA_TRAIT_MAX_CHARS,
                code="max_length",
            )
        validate_storable_text(trait)


def validate_string_list(
    value: object, *, max_items: int, max_chars: int, what: str = "item"
) -> None:
    """Refuse a value that isn't a list of at most `max_items` storable strings of `max_chars`."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(_("This must be a list of texts."), code="invalid")
    if len(value) > max_items:
        raise ValidationError(
            _("Give at most %(max)d of them.") % {"max": max_items}, code="too_many"
        )
    for item in value:
        if len(item) > max_chars:
            raise ValidationError(
                _("Keep each %(what)s to at most %(max)d characters.")
                % {"what": what, "max": max_chars},
                code="max_length",
            )
        validate_storable_text(item)


def validate_alternate_greetings(value: object) -> None:
    """Refuse alternate greetings that aren't a list of greetings within the limits."""
    validate_string_list(
        value,
        max_items=PERSONA_ALTERNATE_GREETINGS_MAX,
        max_chars=PERSONA_GREETING_MAX_CHARS,
        what=_("greeting"),
    )


def validate_lorebook_keys(value: object) -> None:
    """Refuse lorebook keys that aren't a list of short keywords."""
    validate_string_list(
        value, max_items=LOREBOOK_KEYS_MAX, max_chars=LOREBOOK_KEY_MAX_CHARS, what=_("key")
    )
