"""Refuse oversized request bodies before Django reads them; answer domain errors on pages."""

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse

from mybella.core.errors import NotFound


class RequestSizeLimitMiddleware:
    """Answer 413 to a request whose declared body exceeds MAX_REQUEST_BYTES.

    Django's own limits leave file uploads out: without this, a huge upload would be
    spooled to disk in full before any view could check its size.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.MAX_REQUEST_BYTES
        if length > limit:
            message = f"The request is too large (at most {limit // 2**20} MB)."
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


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
