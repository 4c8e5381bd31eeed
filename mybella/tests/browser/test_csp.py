"""The Content-Security-Policy in a real browser: what it refuses, and that the tests see it."""

import logging

import pytest
from playwright.sync_api import expect

from mybella.tests.browser.watch import PageWatch

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]

INJECT = """
document.body.insertAdjacentHTML("beforeend", '<p id="styled" style="color: red">red?</p>');
const script = document.createElement("script");
script.textContent = "window.injected = true";
document.body.append(script);
"""


def test_inline_style_and_script_are_refused_seen_and_reported(browser, live_server, caplog):
    """Injected markup neither styles nor runs; the watch and the report endpoint see both."""
    context = browser.new_context(base_url=live_server.url)
    watch = PageWatch(context)
    page = context.new_page()
    page.goto("/")
    with caplog.at_level(logging.WARNING, logger="mybella.csp"):
        with page.expect_request("**/csp-report/") as report:
            page.evaluate(INJECT)
        assert report.value.response().status == 204
    expect(page.locator("#styled")).not_to_have_css("color", "rgb(255, 0, 0)")
    assert page.evaluate("window.injected") is None
    context.close()
    assert [v.split(" in ")[0] for v in watch.violations] == [
        "style-src-attr refused inline",
        "script-src-elem refused inline",
    ]
    assert any("Content Security Policy" in text for text in watch.unexpected_errors())
    assert "violated-directive='style-src-attr'" in caplog.text
