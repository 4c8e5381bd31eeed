"""memory's rules, declared once: the model, the forms, the serializers and the services read them.

Generic caps (how long a memory, a preference key or value may be, how many preferences a
pair keeps) live in `mybella.core.limits`. Here are the rules of memory's own: the
importance scale, and what each known preference accepts. A preference key not listed is
allowed too (the API keeps it) under the generic caps alone.
"""

import re
from collections.abc import Collection
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mybella.core import limits

IMPORTANCE_MIN = 1  # trivia
IMPORTANCE_MAX = 10  # never forget
IMPORTANCE_DEFAULT = 5

# A slot names what a fact is about ("lives_in", "called:dog", "taste:coffee").
SLOT_MAX_CHARS = 80

# Fewer words than this say nothing worth remembering ("...", "Tea", "Likes tea" from a model).
MIN_WORDS = 3
_WORD = re.compile(r"\w+")


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.casefold()))


def is_junk(
    content: str, persona_lines: Collection[str] = (), *, subject_implied: bool = False
) -> bool:
    """Return whether `content` is not worth storing as a memory, whoever proposes it.

    Junk: empty, punctuation only, under `MIN_WORDS` words, or a copy of one of the
    persona's own lines (the same words, whatever the case and punctuation). The offline
    rules write from templates whose subject is the user, left out ("Likes tea" is "they
    like tea"): with `subject_implied` that subject counts as a word. A model's free text
    gets no such allowance.
    """
    words = _words(content) if isinstance(content, str) else ()
    if len(words) + (1 if subject_implied and words else 0) < MIN_WORDS:
        return True
    return any(words == _words(line) for line in persona_lines)


@dataclass(frozen=True)
class PreferenceRule:
    """What one known preference accepts: free text up to `max_length`, or one of `choices`.

    An empty value is always accepted: it removes the preference.
    """

    label: str | Promise
    help_text: str | Promise = ""
    max_length: int | None = None
    choices: tuple[tuple[str, str | Promise], ...] = ()


# The page's form shows these, in this order; the API and extraction obey the same rules.
PREFERENCE_RULES: dict[str, PreferenceRule] = {
    "preferred_name": PreferenceRule(
        label=_("Preferred name"), help_text=_("What they call you."), max_length=100
    ),
    "reply_length": PreferenceRule(
        label=_("Reply length"),
        choices=(("short", _("Short")), ("medium", _("Medium")), ("long", _("Long"))),
    ),
    "tone": PreferenceRule(
        label=_("Tone"),
        help_text=_("For example: gentle, playful, straight to the point."),
        max_length=200,
    ),
    "language": PreferenceRule(
        label=_("Language"), help_text=_("The language they answer in."), max_length=100
    ),
}


def clean_preference(key: str, value: str) -> str:
    """Return `value` stripped if preference `key` may hold it; raise ValidationError if not.

    The error is about `"key"` or `"value"`. The rule of a known key applies, then the
    generic caps (`limits.PREFERENCE_KEY_MAX_CHARS`, `PREFERENCE_VALUE_MAX_CHARS`) for any
    key; the model re-checks the key's form (a slug) when the service saves it.
    """
    for name, text in (("key", key), ("value", value)):
        if not isinstance(text, str):
            raise ValidationError({name: gettext("Give text.")}, code="invalid")
        problem = limits.text_problem(text)
        if problem:
            raise ValidationError({name: gettext("This text %s.") % problem}, code="unstorable")
    value = value.strip()
    # Each preference is one line of the prompt ("tone: …"): a line break would pass for
    # the prompt's own lines, a reordering mark would disguise the value on the page.
    problem = limits.line_problem(value)
    if problem:
        raise ValidationError({"value": gettext("This text %s.") % problem}, code="not_one_line")
    if len(key) > limits.PREFERENCE_KEY_MAX_CHARS:
        raise ValidationError(
            {
                "key": gettext("Keep a key to at most %d characters.")
                % limits.PREFERENCE_KEY_MAX_CHARS
            },
            code="max_length",
        )
    rule = PREFERENCE_RULES.get(key)
    if value and rule is not None and rule.choices:
        allowed = [choice for choice, _label in rule.choices]
        if value not in allowed:
            raise ValidationError(
                {"value": gettext("Choose one of: %s.") % ", ".join(allowed)}, code="invalid_choice"
            )
    max_length = limits.PREFERENCE_VALUE_MAX_CHARS
    if rule is not None and rule.max_length is not None:
        max_length = min(max_length, rule.max_length)
    if len(value) > max_length:
        raise ValidationError(
            {
                "value": gettext("Keep this to at most %(max)d characters (it has %(length)d).")
                % {"max": max_length, "length": len(value)}
            },
            code="max_length",
        )
    return value


def describe_preference_rules() -> str:
    """Return the known keys and what each takes, in words, for documentation."""
    parts = []
    for key, rule in PREFERENCE_RULES.items():
        if rule.choices:
            parts.append(f"{key} ({', '.join(choice for choice, _label in rule.choices)})")
        elif rule.max_length is not None:
            parts.append(f"{key} (at most {rule.max_length} characters)")
        else:
            parts.append(key)
    return ", ".join(parts)
