"""Domain errors that services and selectors raise, whatever the adapter that called them.

Besides Django's `ValidationError` (the input is invalid) and `PermissionDenied` (the
caller may see the object but not change it), a service raises:

- `NotFound`: the object is missing *or* is not the caller's. Both read the same, so an
  answer never reveals that someone else's object exists.
- `UpstreamError`: a remote service (a language model, a speech engine) failed.

The API maps them in `mybella.core.exceptions`, pages in `mybella.core.forms` and
`mybella.core.middleware.DomainErrorMiddleware`. Nothing here knows about HTTP requests.
"""


class NotFound(Exception):
    """The object does not exist, or the caller may not see it."""

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message)
        self.message = message


class UpstreamError(Exception):
    """A remote service failed; `message` is what users read.

    `status_code` is what an API answers: 502 (a bad answer), 503 (busy or unreachable) or
    504 (timed out). `retry_after` is in seconds. `retryable` says whether the same request
    may work a little later; `reason` is the provider's own word for the failure (e.g.
    "voice_not_found"), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 502,
        retry_after: int | None = None,
        retryable: bool = False,
        reason: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after
        self.retryable = retryable
        self.reason = reason
