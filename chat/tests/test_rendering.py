"""Messages render as safe markdown: formatting yes, markup from the text never."""

import re

import pytest
from django.template import Context, Template

from chat.rendering import render_message


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("*smiles softly* Hi", "<p><em>smiles softly</em> Hi</p>"),
        ("**bold** and ~~gone~~", "<p><strong>bold</strong> and <s>gone</s></p>"),
        ("one\ntwo", "<p>one<br>\ntwo</p>"),
        ("- tea\n- cake", "<ul>\n<li>tea</li>\n<li>cake</li>\n</ul>"),
        ("`a<b`", "<p><code>a&lt;b</code></p>"),
        (
            "[site](https://example.com)",
            '<p><a href="https://example.com" target="_blank" rel="noopener noreferrer">'
            "site</a></p>",
        ),
        ("", ""),
    ],
)
def test_markdown_renders(text, html):
    assert render_message(text) == html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<div style="color:red" onclick="alert(1)">hi</div>',
        "```\n<script>alert(1)</script>\n```",
        "![pic](https://example.com/x.png)",
    ],
)
def test_hostile_text_never_becomes_markup(text):
    """Only harmless tags come out, and a link only with an http(s) address."""
    html = render_message(text)
    assert set(re.findall(r"<(\w+)", html)) <= {"p", "pre", "code", "a", "br"}, html
    tags = re.findall(r"<\w+[^>]*>", html)
    attributes = [pair for tag in tags for pair in re.findall(r"\s([\w-]+)=\"([^\"]*)\"", tag)]
    assert {name for name, _ in attributes} <= {"href", "target", "rel"}, html
    assert all(value.startswith("https://") for name, value in attributes if name == "href")


LINK = '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>'


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("![a cat](https://example.com/x.png)", LINK.format("https://example.com/x.png", "a cat")),
        (
            "see ![](https://example.com/x.png) here",
            "see "
            + LINK.format("https://example.com/x.png", "https://example.com/x.png")
            + " here",
        ),
        (
            "![<b>*cat*</b>](https://e.com/a.png)",
            LINK.format("https://e.com/a.png", "&lt;b&gt;cat&lt;/b&gt;"),
        ),
        ("[![logo](https://e.com/i.png)](https://e.com/)", LINK.format("https://e.com/", "logo")),
        ("![pixel](data:image/png;base64,AAAA)", "pixel"),
    ],
)
def test_an_image_is_never_loaded_but_shown_as_a_link_named_by_its_alt(text, html):
    """No stray "!" before it, no `<img>`: its server never learns who reads the message."""
    assert render_message(text) == f"<p>{html}</p>"


def test_the_template_filter_is_the_renderer():
    rendered = Template("{% load chat_markup %}{{ text|message_html }}").render(
        Context({"text": "*waves* <b>hi</b>"})
    )
    assert rendered == "<p><em>waves</em> &lt;b&gt;hi&lt;/b&gt;</p>"
