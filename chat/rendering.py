"""Message text as HTML: safe markdown, `*actions*` in italics, one renderer for every page.

Markdown is rendered with raw HTML switched off (a user's `<b>` is shown as text), then
the result goes through nh3 (Rust's ammonia) with a short allowlist, so nothing a user or
a model writes can become markup that runs: no scripts, no event handlers, no
`javascript:` links, no images. Links open in a new tab with `rel="noopener noreferrer"`.
An image (`![alt](url)`) is never loaded, which would tell its server who reads the
message: it shows as a link labelled with its alt text (the address when it has none),
or as its alt text alone inside another link.
"""

from collections.abc import Sequence
from functools import cache
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

ALLOWED_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def _image_as_link(
    renderer: RendererHTML,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    """Render an image as a link to it labelled with its alt text, never as an `<img>`."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    label = escapeHtml(renderer.renderInlineAsText(token.children or [], options, env) or src)
    opened = sum((item.type == "link_open") - (item.type == "link_close") for item in tokens[:idx])
    scheme = urlsplit(src).scheme.lower()
    if opened > 0 or (scheme and scheme not in URL_SCHEMES):  # links don't nest; no data:
        return label
    return f'<a href="{escapeHtml(src)}">{label}</a>'


@cache
def _markdown() -> MarkdownIt:
    # CommonMark, which reads `*smiles softly*` as emphasis as roleplay frontends show it;
    # a single newline is a line break, as people write chat messages.
    md = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(
        ["table", "strikethrough"]
    )
    md.add_render_rule("image", _image_as_link)
    return md


def render_message(text: str) -> str:
    """Return `text` as safe HTML (markdown rendered, then sanitized)."""
    if not text:
        return ""
    html = _markdown().render(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    ).strip()


def plain_text(text: str) -> str:
    """Return the words a reader of `text` sees, markdown's marks dropped: one line a block.

    `I love **hiking**` reads `I love hiking`; code keeps its text; an image is its alt text.
    Raw HTML is text here as on the page (a user's `<b>` is what they wrote).
    """
    lines: list[str] = []
    for token in _markdown().parse(text or ""):
        if token.type in ("code_block", "fence"):
            lines.append(token.content.rstrip("\n"))
        elif token.type == "inline":
            lines.append("".join(_inline_text(token.children or [])))
    return "\n".join(line for line in lines if line.strip())


def _inline_text(children: Sequence[Token]) -> list[str]:
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.extend(_inline_text(child.children or []))
    return parts
