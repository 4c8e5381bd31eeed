"""Refuse oversized request bodies before they are read, under WSGI and ASGI alike; answer
domain errors on pages."""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from mybella.core.errors import NotFound

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def too_large_response(path: str) -> HttpResponse:
    """Return the 413 answer to a body over MAX_REQUEST_BYTES: JSON under /api/, else text."""
    message = f"The request is too large (at most {settings.MAX_REQUEST_BYTES // 2**20} MB)."
    if path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class RequestSizeLimitMiddleware:
    """Answer 413 to a request whose declared body exceeds MAX_REQUEST_BYTES.

    Django's own limits leave file uploads out: without this, a huge upload would be
    spooled to disk in full before any view could check its size. Under WSGI a body
    without Content-Length (chunked) is never read: Django sees an empty body. Under ASGI
    Django reads the whole body before any middleware runs, so `RequestSizeLimitASGI`
    guards that entry point instead.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            return too_large_response(request.path)
        return self.get_response(request)


class RequestSizeLimitASGI:
    """Wrap an ASGI application so no HTTP body over MAX_REQUEST_BYTES reaches it.

    A declared Content-Length over the limit is answered 413 before a byte of the body is
    received. Every body is also counted as it arrives (chunked bodies have no length, and
    a declared one can lie): once past the limit, the client gets 413 and the application
    is told the client went away, so it stops reading and answers nothing itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = settings.MAX_REQUEST_BYTES
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _send_too_large(scope, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    await _send_too_large(scope, send)
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_too_large(scope: Scope, send: Send) -> None:
    response = too_large_response(scope.get("path", ""))
    headers = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in response.items()
    ]
    headers.append((b"content-length", str(len(response.content)).encode()))
    headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.content})


class DomainErrorMiddleware:
    """Answer a `NotFound` that a page's service or selector raised with the 404 page.

    Services raise domain errors and never `Http404`, so they stay free of HTTP; pages may
    let `NotFound` through. API views never get here: DRF's exception handler answers
    their errors itself (`mybella.core.exceptions`).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, NotFound):
            raise Http404(exception.message) from exception
