"""Error pages (JSON under /api/, HTML everywhere else) and public media."""

import posixpath

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import requires_csrf_token
from django.views.static import serve


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer an unknown URL."""
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """Answer an unhandled error outside DRF's reach."""
    if _wants_json(request):
        return JsonResponse(
            {"detail": "Something went wrong on our side. Please try again."}, status=500
        )
    return render(request, "500.html", status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Answer a request that failed the CSRF check."""
    if _wants_json(request):
        return JsonResponse({"detail": f"CSRF check failed: {reason}"}, status=403)
    return render(request, "403_csrf.html", {"reason": reason}, status=403)


def _public_media_path(path: str) -> str | None:
    """Return `path` if it names a public upload exactly as stored, else None.

    `serve()` normalises a path before it opens the file, so the check is made on the
    normalised path, and a path that normalisation would change (`.`, `..`, `//`, a leading
    slash) is refused outright, as are backslashes, NUL and percent signs (a separator still
    encoded). The prefixes are compared case-sensitively, as they are stored.
    """
    if any(character in path for character in "\\\0%"):
        return None
    normalised = posixpath.normpath(path).lstrip("/")
    if normalised != path:
        return None
    if not normalised.startswith(tuple(settings.PUBLIC_MEDIA_PREFIXES)):
        return None
    return normalised


def media(request: HttpRequest, path: str) -> HttpResponse:
    """Serve a public upload (PUBLIC_MEDIA_PREFIXES) from MEDIA_ROOT when nothing else does.

    Anything else under MEDIA_URL is a 404. Private files are not under MEDIA_ROOT at all:
    they are in their own storage (mybella.core.storage), read only by owner-checked views.
    """
    public = _public_media_path(path)
    if public is None:
        raise Http404
    return serve(request, public, document_root=settings.MEDIA_ROOT)
