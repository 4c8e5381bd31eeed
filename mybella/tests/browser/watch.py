"""Watch a browser context for what went wrong in its pages."""

# Every document reports the Content-Security-Policy violations it sees to the test.
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"} ` +
      `in ${event.sourceFile || event.documentURI}:${event.lineNumber}`
  );
});
"""


class PageWatch:
    """What went wrong in a browser context: console errors, page errors, CSP violations.

    A page the server answers with a 4xx status (a form sent back with its errors) is still
    a page: Chromium's "Failed to load resource" line about that document does not count.
    A script, stylesheet, image or fetch that fails still does.
    """

    def __init__(self, context, allowed_violations: tuple[str, ...] = ()) -> None:
        self.errors: list[tuple[str, str | None]] = []
        self.violations: list[str] = []
        self.allowed_violations = allowed_violations
        self.error_pages: set[str] = set()
        context.expose_function("__cspViolation", self._on_violation)
        context.add_init_script(CSP_WATCH)
        context.on("page", self.watch)

    def watch(self, page) -> None:
        page.on(
            "console",
            lambda msg: (
                msg.type == "error" and self.errors.append((msg.text, msg.location.get("url")))
            ),
        )
        page.on("pageerror", lambda exc: self.errors.append((str(exc), None)))
        page.on("response", self._on_response)

    def _on_violation(self, text: str) -> None:
        if not text.startswith(self.allowed_violations):
            self.violations.append(text)

    def _on_response(self, response) -> None:
        if response.request.is_navigation_request() and 400 <= response.status < 500:
            self.error_pages.add(response.url)

    def unexpected_errors(self) -> list[str]:
        # Chromium logs each violation too: "Loading the image '<url>' violates the following
        # Content Security Policy directive: …".
        allowed_urls = [f"'{text.split(' refused ', 1)[1]}'" for text in self.allowed_violations]
        return [
            text
            for text, url in self.errors
            if not (text.startswith("Failed to load resource") and url in self.error_pages)
            and not ("Content Security Policy" in text and any(u in text for u in allowed_urls))
        ]
