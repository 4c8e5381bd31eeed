"""Message text as HTML: safe markdown, `*actions*` in italics, one renderer for every page.

Markdown is rendered with raw HTML switched off (a user's `<b>` is shown as text), then
the result goes through nh3 (Rust's ammonia) with a short allowlist, so nothing a user or
a model writes can become markup that runs: no scripts, no event handlers, no
`javascript:` links, no images. Links open in a new tab with `rel="noopener noreferrer"`.
"""

from functools import cache

import nh3
from markdown_it import MarkdownIt

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


@cache
def _markdown() -> MarkdownIt:
    # CommonMark, which reads `*smiles softly*` as emphasis as roleplay frontends show it;
    # a single newline is a line break, as people write chat messages.
    return (
        MarkdownIt("commonmark", {"html": False, "breaks": True})
        .enable(["table", "strikethrough"])
        .disable(["image"])
    )


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
