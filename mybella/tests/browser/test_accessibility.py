"""axe-core on every page, at desktop and phone widths: no serious or critical violation."""

import re

import pytest
from django.template.loader import render_to_string
from playwright.sync_api import Page, expect

from mybella.tests.browser.axe import assert_accessible, axe_violations, format_violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("system_personas"),
]

PASSWORD = "Violet-Meadow-8192"
# Redoc's bundle always asks for its logo from its CDN; the policy refuses it, Redoc hides it.
REDOC_LOGO = "img-src refused https://cdn.redoc.ly/redoc/logo-mini.svg"


class Audit:
    """Run axe-core on page after page and gather every blocking violation, to report all."""

    def __init__(self, page: Page, viewport: str) -> None:
        self.page = page
        self.viewport = viewport
        self.failures: list[str] = []
        self.checked: list[str] = []

    def check(self, name: str, disabled_rules: tuple[str, ...] = ()) -> None:
        self.page.wait_for_load_state("load")
        self.checked.append(name)
        violations = axe_violations(self.page, disabled_rules=disabled_rules)
        blocking = [v for v in violations if v["impact"] in {"serious", "critical"}]
        if blocking:
            self.failures.append(f"{name} ({self.viewport}):\n{format_violations(blocking)}")

    def visit(self, path: str, name: str | None = None) -> None:
        self.page.goto(path)
        self.check(name or path)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_every_page_has_no_serious_violation(open_page, django_user_model, viewport):
    page = open_page("/", viewport=viewport, allowed_violations=[REDOC_LOGO])
    audit = Audit(page, viewport)
    audit.check("home")
    for path in ["/users/login/", "/users/signup/", "/users/password_reset/", "/no-such-page/"]:
        audit.visit(path)
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("MyBella API")
    # Swagger UI's own markup puts each operation's copy and lock buttons inside its summary
    # button; everything else on the page is checked.
    audit.check("/api/docs/", disabled_rules=("nested-interactive",))

    page.goto("/api/redoc/")
    expect(page.get_by_role("heading", name="MyBella API").first).to_be_visible(timeout=30_000)
    audit.check("/api/redoc/")

    # A form sent without its CSRF cookie: the 403 page.
    page.goto("/users/login/")
    page.context.clear_cookies()
    page.locator("#id_username").fill("nobody")
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    audit.check("403 CSRF")

    # The 500 page, as the server would send it, in a document of this site.
    page.goto("/no-such-page/")
    page.set_content(render_to_string("500.html"))
    audit.check("500")

    django_user_model.objects.create_superuser("auditor", password=PASSWORD)
    audit.visit("/admin/login/")
    page.locator("#id_username").fill("auditor")
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    audit.check("admin index")
    audit.visit("/admin/personas/personaprofile/", "admin changelist")
    page.locator("#result_list tbody th a").first.click()
    expect(page.locator("#id_name")).to_be_visible()
    audit.check("admin change form")

    audit.visit("/chat/")
    audit.visit("/users/personas/")
    page.locator(".page-actions").get_by_role("button", name="+ Create custom persona").click()
    expect(page.locator("#persona-modal")).to_be_visible()
    audit.check("/users/personas/ with the modal open")
    for path in ["/users/memory/", "/users/voices/", "/users/profile/", "/users/password/"]:
        audit.visit(path)

    assert not audit.failures, "\n\n".join(audit.failures)
    assert len(audit.checked) == 20


def test_the_audit_sees_a_contrast_failure(open_page):
    """The check is not blind: pale text on white is a serious violation it reports."""
    page = open_page("/users/login/")
    page.evaluate(
        """document.querySelector("h1").classList.add("muted");
        document.documentElement.style.setProperty("--muted", "#dddddd");"""
    )
    with pytest.raises(AssertionError, match=re.compile(r"\[serious\] color-contrast")):
        assert_accessible(page)
