"""Check a page with axe-core, the accessibility engine, from any browser test.

    from mybella.tests.browser.axe import assert_accessible
    assert_accessible(page)  # fails on any "serious" or "critical" violation

The vendored file (`static/vendor/axe-core-*.min.js`) is evaluated through the DevTools
protocol, which the page's Content-Security-Policy does not apply to: the product never
loads it and the policy stays as strict as users get it. Its preloading is off: it would
re-parse imported stylesheets in inline <style> elements, which the policy refuses (only the
css-orientation-lock rule needs it, and no stylesheet here locks the orientation).
"""

from pathlib import Path

from django.conf import settings
from playwright.sync_api import Page

AXE_FILE = "axe-core-4.14.1.min.js"
BLOCKING = ("serious", "critical")

RUN_AXE = """async ([include, disabled]) => {
  const rules = Object.fromEntries(disabled.map((id) => [id, { enabled: false }]));
  const options = { resultTypes: ["violations"], rules, preload: false };
  const results = await axe.run(include ?? document, options);
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }));
}"""


def axe_source() -> str:
    return (Path(settings.BASE_DIR) / "static" / "vendor" / AXE_FILE).read_text(encoding="utf-8")


def axe_violations(
    page: Page, *, include: str | None = None, disabled_rules: tuple[str, ...] = ()
) -> list[dict]:
    """Return axe-core's violations on the page as it is now (every impact).

    `include` is a CSS selector to check only part of the page; `disabled_rules` names rules
    to skip, for markup the project does not own (say why where you use it).
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate(RUN_AXE, [include, list(disabled_rules)])


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:5]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


def assert_accessible(
    page: Page, *, include: str | None = None, disabled_rules: tuple[str, ...] = ()
) -> None:
    """Fail when axe-core finds a "serious" or "critical" violation on the page."""
    blocking = [
        v
        for v in axe_violations(page, include=include, disabled_rules=disabled_rules)
        if v["impact"] in BLOCKING
    ]
    assert not blocking, f"{page.url} is not accessible:\n{format_violations(blocking)}"
