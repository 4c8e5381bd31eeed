"""The pages a visitor sees before signing in, and the API documentation."""

import pytest
from playwright.sync_api import expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_home_invites_to_sign_up(open_page, screenshot, viewport):
    page = open_page("/", viewport=viewport)
    expect(page.get_by_role("heading", level=1)).to_contain_text("remembers you")
    expect(page.get_by_role("link", name="Create your account")).to_be_visible()
    expect(page.locator(".home-persona")).to_have_count(6)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    screenshot(page, f"home-{viewport}")


def test_api_docs_render_every_persona_endpoint(open_page, screenshot):
    page = open_page("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("MyBella API")
    for path in ["/api/v1/personas/", "/api/v1/chat/messages/", "/api/v1/voices/custom/"]:
        expect(page.locator(f'.opblock-summary-path[data-path="{path}"]').first).to_be_visible()
    screenshot(page, "api-docs")


# Redoc's bundle always asks for its logo from its CDN; the policy refuses it, Redoc hides it.
REDOC_LOGO = "img-src refused https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_redoc_renders_the_api(open_page, screenshot):
    page = open_page("/api/redoc/", allowed_violations=[REDOC_LOGO])
    # Redoc lays out the whole schema in the page's script before it shows anything: over 5 s
    # (the default wait) on a busy 2-core machine, as in CI with both suites running.
    expect(page.get_by_role("heading", name="MyBella API").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Send a message").first).to_be_attached()
    screenshot(page, "api-redoc")
