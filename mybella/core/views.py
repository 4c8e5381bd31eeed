"""Error pages: JSON under /api/, HTML everywhere else."""

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


# Uploads that only their owner may fetch, through views that check who is asking.
PRIVATE_MEDIA = ("voice-samples/", "speech/")


def media(request: HttpRequest, path: str) -> HttpResponse:
    """Serve a public upload (avatars) from local storage when no bucket or web server does."""
    if path.lstrip("/").startswith(PRIVATE_MEDIA) or ".." in path:
        raise Http404
    return serve(request, path, document_root=settings.MEDIA_ROOT)
