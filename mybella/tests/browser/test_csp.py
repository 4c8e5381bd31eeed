"""The Content-Security-Policy in a real browser: what it refuses, and that the tests see it."""

import logging

import pytest
from playwright.sync_api import expect

from mybella.tests.browser.steps import sign_up
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


# Markup an htmx page would carry: a GET that swaps in part of another page, a POST, and
# an indicator. Inserted after load, so htmx is asked to process it.
HTMX_PROBE = """
document.querySelector("main").insertAdjacentHTML("beforeend", `
  <button type="button" id="hx-get" hx-get="/users/personas/" hx-select="h1"
          hx-target="#hx-out">Fetch</button>
  <div id="hx-out"></div>
  <button type="button" id="hx-post" hx-post="/users/logout/" hx-swap="none">Leave</button>
  <span class="htmx-indicator" id="hx-indicator">Working…</span>`);
htmx.process(document.querySelector("main"));
"""


def test_htmx_runs_under_the_policy_and_sends_the_csrf_token(open_page):
    """htmx loads from our origin with its CSP-safe config, swaps, and posts with the token."""
    page = open_page("/users/signup/")
    sign_up(page, "htmx_user")
    config = page.evaluate(
        """() => ({
          version: htmx.version,
          includeIndicatorStyles: htmx.config.includeIndicatorStyles,
          allowEval: htmx.config.allowEval,
          allowScriptTags: htmx.config.allowScriptTags,
          selfRequestsOnly: htmx.config.selfRequestsOnly,
          styles: document.querySelectorAll("style").length,
        })"""
    )
    assert config == {
        "version": config["version"],
        "includeIndicatorStyles": False,
        "allowEval": False,
        "allowScriptTags": False,
        "selfRequestsOnly": True,
        "styles": 0,
    }
    assert config["version"].startswith("2.0.")
    page.evaluate(HTMX_PROBE)
    # The indicator is hidden by app.css, as htmx's own (inline) style would have done.
    expect(page.locator("#hx-indicator")).to_have_css("opacity", "0")

    page.locator("#hx-get").click()
    expect(page.locator("#hx-out h1")).to_have_text("My personas")

    with page.expect_response("**/users/logout/") as info:
        page.locator("#hx-post").click()
    token = info.value.request.headers.get("x-csrftoken")
    assert token
    assert info.value.status == 302
    page.reload()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
