"""Character card macros: `{{char}}`, `{{user}}` and their V1 spellings `<BOT>`, `<USER>`.

One function fills them, for the prompt builder and for every page that shows card text
(the `card_text` template tag), as SillyTavern does: case-insensitive, plain replacement.
What is stored stays raw, so a card exported again reads as it was written.

The user's name is what they asked this persona to call them, else their account's name:
apps that know a per-persona name register a source in `user_name_sources` (memory's
`preferred_name` preference); personas imports none of them.

A user without a name (a handle for a username, a visitor) is not called "you" as if it
were one: a greeting's vocative is left out ("Welcome back, {{user}}." -> "Welcome back.",
"{{user}}, you're back!" -> "You're back!"), "{{user}}'s" reads "your", "{{user}} is"
reads "you are", and "you" elsewhere ("waves at {{user}}" -> "waves at you").
"""

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from mybella.core.hooks import Registry

if TYPE_CHECKING:
    from mybella.users.models import User
    from personas.models import PersonaProfile

CHAR_MACROS = ("{{char}}", "{{charifnotgroup}}", "<bot>")
USER_MACROS = ("{{user}}", "<user>")
MACRO = re.compile(
    "|".join(re.escape(macro) for macro in (*CHAR_MACROS, *USER_MACROS)), re.IGNORECASE
)
DEFAULT_USER_NAME = "you"  # what a page passes for a user without a name

# {{user}} for a user without a name, by what stands around it (see the module's docstring).
_USER = re.compile(r"\{\{user\}\}|<user>", re.IGNORECASE)
_COMMA_BEFORE = re.compile(r",\s*$")  # "Welcome back, {{user}}."
_HELLO_BEFORE = re.compile(
    r"(?i:\b(?:hi|hello|hey|hiya|howdy|welcome|back|there|morning|afternoon|evening|night|bye"
    r"|goodbye|thanks))\s+$"
)  # "Hi {{user}}!"
_DEAR_BEFORE = re.compile(r"(?i:\bdear)\s+$")  # "Dear {{user}}, welcome"
_ENDS_AFTER = re.compile(r"\s*(?:[.!?…,;:*)\"”]|$)")
_COMMA_AFTER = re.compile(r"\s*,\s*(?=\w)")  # "{{user}}, you're back"
_POSSESSIVE_AFTER = re.compile(r"['’]s\b")
_VERB_AFTER = re.compile(r"\s+(is|was|has)\b", re.IGNORECASE)
_VERBS = {"is": "are", "was": "were", "has": "have"}

# Each source returns the name `user` asked `persona` to call them, or None if it doesn't say.
UserNameSource = Callable[..., str | None]
user_name_sources: Registry[UserNameSource] = Registry("user_name_sources")


def has_macros(text: str) -> bool:
    """Return whether `text` holds a macro (so the user's name is needed to show it)."""
    return bool(text) and MACRO.search(text) is not None


def fill_macros(text: str, *, char: str, user: str) -> str:
    """Return `text` with the character's and the user's name in place of their macros.

    Without a user name (empty, or DEFAULT_USER_NAME) the user's macros read naturally
    without one (the module's docstring). Plain replacement, never `str.format`: the text
    is user-written data.
    """
    if not text:
        return text
    if not user or user == DEFAULT_USER_NAME:
        text = _without_name(text)
    return MACRO.sub(lambda found: char if found.group().lower() in CHAR_MACROS else user, text)


def _starts_sentence(before: str) -> bool:
    before = before.rstrip(" \t*\"“'‘(")
    return not before or before[-1] in ".!?…\n"


def _without_name(text: str) -> str:
    """Return `text` with each {{user}} (and what is around it) read for a user without a
    name; one pass over the text, the context looked at around each macro."""
    done, pos = "", 0
    for found in _USER.finditer(text):
        done, pos = done + text[pos : found.start()], found.end()
        ends = _ENDS_AFTER.match(text, pos)
        tail = done[-40:]  # what is looked at before the macro: its few last words
        if ends and (comma := _COMMA_BEFORE.search(tail)):
            done = done[: len(done) - len(tail) + comma.start()]  # "Welcome back, {{user}}."
            continue
        if ends and _HELLO_BEFORE.search(tail):
            done = done.rstrip()  # "Hi {{user}}!" -> "Hi!"
            continue
        comma = _COMMA_AFTER.match(text, pos)
        dear = _DEAR_BEFORE.search(tail) if comma else None
        dear_at = len(done) - len(tail) + dear.start() if dear else 0
        if comma and dear and not _starts_sentence(done[:dear_at]):
            done, pos = done.rstrip() + ", ", comma.end()  # "my dear {{user}}, welcome"
            continue
        if dear:
            done = done[:dear_at]  # "Dear {{user}}, welcome" -> "Welcome"
        if comma and _starts_sentence(done):
            # "{{user}}, you're back!" -> "You're back!"
            done, pos = done + text[comma.end()].upper(), comma.end() + 1
            continue
        if possessive := _POSSESSIVE_AFTER.match(text, pos):
            word, pos = "your", possessive.end()
        elif verb := _VERB_AFTER.match(text, pos):
            word, pos = "you " + _VERBS[verb[1].lower()], verb.end()
        else:
            word = "you"
        done += word[0].upper() + word[1:] if _starts_sentence(done) else word
    return done + text[pos:]


def name_without_macros(name: str) -> str:
    """Return a card's name without its macros, which mean nothing in a name: "{{user}}'s
    friend {{char}}" -> "Friend" (a possessive left without its owner goes too), "" if
    nothing is left."""
    text = re.sub(MACRO.pattern + r"(?:['’]s\b)?", " ", name, flags=re.IGNORECASE)
    text = re.sub(r"(?:(?<=\s)|^)['’]s\b", " ", text)  # what a macro's possessive left
    text = re.sub(r"\(\s*\)|\[\s*\]|\{\s*\}", " ", text)  # "Luna ({{char}})"
    text = " ".join(text.split()).strip(" ,;:-–—'’&+/|")
    return text[:1].upper() + text[1:] if text != name else name


def user_name_for(*, user: "User", persona: "PersonaProfile") -> str:
    """Return what `persona` calls `user`: a registered source's name, else the account's."""
    for source in user_name_sources:
        name = source(user=user, persona=persona)
        if name:
            return name
    return user.preferred_name


def greetings_for(*, user: "User", persona: "PersonaProfile") -> list[str]:
    """Return the greetings a new conversation may open with, names filled in, main one first."""
    name = user_name_for(user=user, persona=persona)
    return [fill_macros(text, char=persona.name, user=name) for text in persona.greetings]
