"""Show character card text as a reader expects it: names filled in, descriptions formatted.

`{% card_text text persona %}` fills the macros of any card text; `{% card_bio persona %}`
shows a description as paragraphs, with W++ attribute blocks as readable lists and the
example-dialogue marker `<START>` left out; `{% card_line persona %}` is the line under a
card's name (the tagline, else the start of the description). What is stored stays raw.
"""

import re
from collections.abc import Iterable

from django import template
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from personas.macros import DEFAULT_USER_NAME, fill_macros, has_macros, user_name_for
from personas.models import PersonaProfile

register = template.Library()

# [character("Seraphina") { Species("Elf") Personality("Kind" + "Caring") }]
WPP_BLOCK = re.compile(r"\[\s*(?:[^\[\]{}()]*\([^()]*\)\s*)?\{(?P<body>[^{}]*)\}\s*\]")
WPP_ATTR = re.compile(r"(?P<key>[^\s(){}\"+][^(){}\"+]*?)\s*\((?P<values>[^()]*)\)")
QUOTED = re.compile(r'"([^"]*)"')
# [Seraphina's Personality= "caring", "protective"] or [Likes: tea, books]
BRACKET_LIST = re.compile(r"\[(?P<key>[^\[\]:=\n]{1,80})[:=](?P<values>[^\[\]]*)\]")
START_LINE = re.compile(r"^\s*<START>\s*$", re.IGNORECASE | re.MULTILINE)
# The most of a description a card shows in place of a missing tagline: two lines or so,
# as a system persona's tagline.
BIO_START_MAX_CHARS = 70


def _values(text: str) -> list[str]:
    quoted = QUOTED.findall(text)
    items = quoted if quoted else re.split(r"[+,]", text)
    return [item.strip() for item in items if item.strip()]


def _attrs_html(pairs: Iterable[tuple[str, list[str]]]) -> SafeString:
    rows = format_html_join(
        "",
        "<div><dt>{}</dt><dd>{}</dd></div>",
        ((key, ", ".join(values)) for key, values in pairs if values),
    )
    return format_html('<dl class="card-attrs">{}</dl>', rows) if rows else SafeString("")


def _paragraphs_html(text: str) -> SafeString:
    """Return `text` as escaped paragraphs (at blank lines) with line breaks kept."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return format_html_join(
        "",
        "<p>{}</p>",
        (
            (format_html_join(SafeString("<br>"), "{}", ((line,) for line in p.splitlines())),)
            for p in paragraphs
        ),
    )


def _block_html(found: re.Match[str]) -> SafeString:
    if found.re is WPP_BLOCK:
        pairs = [
            (attr["key"].strip(), _values(attr["values"]))
            for attr in WPP_ATTR.finditer(found["body"])
        ]
    else:
        pairs = [(found["key"].strip(), _values(found["values"]))]
    return _attrs_html(pairs)


def description_html(text: str, *, char: str, user: str) -> SafeString:
    """Return a card description as safe HTML: paragraphs, W++ blocks as lists, no `<START>`."""
    text = START_LINE.sub("", fill_macros(text, char=char, user=user))
    parts: list[SafeString] = []
    position = 0
    while True:
        found = min(
            (
                m
                for m in (WPP_BLOCK.search(text, position), BRACKET_LIST.search(text, position))
                if m
            ),
            key=lambda m: m.start(),
            default=None,
        )
        end = found.start() if found else len(text)
        prose = text[position:end].strip()
        if prose:
            parts.append(_paragraphs_html(prose))
        if found is None:
            break
        parts.append(_block_html(found))
        position = found.end()
    return format_html_join("", "{}", ((part,) for part in parts))


def bio_start(text: str, *, char: str, user: str) -> str:
    """Return the start of a card description as one line of at most BIO_START_MAX_CHARS.

    Macros are filled; W++ and bracketed attribute blocks and `<START>` are left out (they
    are no prose); a longer text is cut after a word, with an ellipsis.
    """
    text = START_LINE.sub("", fill_macros(text, char=char, user=user))
    line = " ".join(BRACKET_LIST.sub(" ", WPP_BLOCK.sub(" ", text)).split())
    if len(line) <= BIO_START_MAX_CHARS:
        return line
    cut = line[: BIO_START_MAX_CHARS - 1]  # room for the ellipsis
    space = cut.rfind(" ")
    if space > BIO_START_MAX_CHARS // 2:  # else one long word: cut inside it
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"


def user_names_filled(request: HttpRequest) -> bool:
    """Return whether a page rendered for `request` filled the user's name into card text.

    Such a page depends on that name, whose sources (the account, memory) no cache version
    follows: a cached page (`personas.views`, `chat.views`) is then not stored.
    """
    return bool(request.__dict__.get("_card_user_names"))


def _user_name(context: template.Context, persona: PersonaProfile, text: str) -> str:
    """Return what `persona` calls the request's user, looked up once per request and persona.

    Text without macros needs no name: none is looked up.
    """
    if not has_macros(text):
        return DEFAULT_USER_NAME
    request: HttpRequest | None = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return DEFAULT_USER_NAME
    names = request.__dict__.setdefault("_card_user_names", {})
    if persona.pk not in names:
        names[persona.pk] = user_name_for(user=user, persona=persona)
    return names[persona.pk]


@register.simple_tag(takes_context=True)
def card_text(context: template.Context, text: str, persona: PersonaProfile) -> str:
    """Return card text with `{{char}}`/`{{user}}` (and `<BOT>`/`<USER>`) filled in."""
    return fill_macros(text or "", char=persona.name, user=_user_name(context, persona, text))


@register.simple_tag(takes_context=True)
def card_line(context: template.Context, persona: PersonaProfile) -> str:
    """Return the line a card shows under the name: the tagline, else the bio's start."""
    if persona.tagline:
        return card_text(context, persona.tagline, persona)
    user = _user_name(context, persona, persona.bio)
    return bio_start(persona.bio, char=persona.name, user=user)


@register.simple_tag(takes_context=True)
def card_bio(context: template.Context, persona: PersonaProfile) -> SafeString:
    """Return the persona's description formatted for reading."""
    user = _user_name(context, persona, persona.bio)
    return description_html(persona.bio, char=persona.name, user=user)


@register.filter
def shares_system_name(persona: PersonaProfile, personas: Iterable[PersonaProfile]) -> bool:
    """Return whether a user's own `persona` has the name of a system persona among `personas`."""
    if not persona.is_custom:
        return False
    name = persona.name.casefold()
    return any(not other.is_custom and other.name.casefold() == name for other in personas)


@register.simple_tag(takes_context=True)
def card_notes(context: template.Context, persona: PersonaProfile) -> SafeString:
    """Return the card's creator notes ("About this card") as paragraphs."""
    user = _user_name(context, persona, persona.creator_notes)
    text = fill_macros(persona.creator_notes, char=persona.name, user=user)
    return _paragraphs_html(text)
