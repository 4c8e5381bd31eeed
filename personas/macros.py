"""Character card macros: `{{char}}`, `{{user}}` and their V1 spellings `<BOT>`, `<USER>`.

One function fills them, for the prompt builder and for every page that shows card text
(the `card_text` template tag), as SillyTavern does: case-insensitive, plain replacement.
What is stored stays raw, so a card exported again reads as it was written.

The user's name is what they asked this persona to call them, else their account's name:
apps that know a per-persona name register a source in `user_name_sources` (memory's
`preferred_name` preference); personas imports none of them.
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
DEFAULT_USER_NAME = "you"

# Each source returns the name `user` asked `persona` to call them, or None if it doesn't say.
UserNameSource = Callable[..., str | None]
user_name_sources: Registry[UserNameSource] = Registry("user_name_sources")


def has_macros(text: str) -> bool:
    """Return whether `text` holds a macro (so the user's name is needed to show it)."""
    return bool(text) and MACRO.search(text) is not None


def fill_macros(text: str, *, char: str, user: str) -> str:
    """Return `text` with the character's and the user's name in place of their macros.

    Plain replacement, never `str.format`: the text is user-written data.
    """
    if not text:
        return text
    user = user or DEFAULT_USER_NAME
    return MACRO.sub(lambda found: char if found.group().lower() in CHAR_MACROS else user, text)


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
