"""Error pages (JSON under /api/, HTML everywhere else), public media and CSP reports."""

import json
import logging
import posixpath
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, requires_csrf_token
from django.views.decorators.http import require_POST
from django.views.static import serve
from rest_framework.throttling import SimpleRateThrottle

csp_logger = logging.getLogger("mybella.csp")


def require_form_post(page: str) -> Callable[[Callable], Callable]:
    """`require_POST` for a form's action that renders its page again when the form fails:
    the address bar then shows the action's URL, so a GET or HEAD there (a reload, the
    history, a link shared) goes back to the page `page` names instead of a bare 405."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        posted = require_POST(view)

        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in ("GET", "HEAD"):
                return redirect(page)
            return posted(request, *args, **kwargs)

        return wrapper

    return decorator


# An upload stored under a fresh random name (personas.avatars.avatar_upload_to) never
# changes: a new avatar gets a new name, so browsers may keep it for good.
IMMUTABLE_MEDIA = re.compile(r"avatars/[0-9a-f]{32}\.webp")


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
    # `serve` answers If-Modified-Since with a 304 by itself (it sends Last-Modified).
    response = serve(request, public, document_root=settings.MEDIA_ROOT)
    if IMMUTABLE_MEDIA.fullmatch(public):
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


class CspReportThrottle(SimpleRateThrottle):
    """Limit the violation reports one client address may send (`THROTTLE_CSP_REPORT`)."""

    scope = "csp_report"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


# The fields worth a log line, under their `report-uri` and their Reporting API names.
CSP_REPORT_FIELDS = {
    "document-uri": "documentURL",
    "violated-directive": "effectiveDirective",
    "blocked-uri": "blockedURL",
    "source-file": "sourceFile",
    "line-number": "lineNumber",
    "script-sample": "sample",
}


def _csp_reports(payload: object) -> list[dict]:
    """Return the violation bodies of a `report-uri` or a Reporting API payload."""
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        report = payload["csp-report"]
        return [{field: report.get(field) for field in CSP_REPORT_FIELDS}]
    if isinstance(payload, list):
        return [
            {field: item["body"].get(name) for field, name in CSP_REPORT_FIELDS.items()}
            for item in payload
            if isinstance(item, dict) and isinstance(item.get("body"), dict)
        ]
    return []


@csrf_exempt
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    """Log the Content-Security-Policy violations a browser reports.

    Anyone may post here, so a report is small (CSP_REPORT_MAX_BYTES), rate-limited per
    client and only ever logged, each value cut short.
    """
    limit = settings.CSP_REPORT_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return HttpResponse(status=413)
    if not CspReportThrottle().allow_request(request, None):
        return HttpResponse(status=429)
    body = request.read(limit + 1)
    if len(body) > limit:
        return HttpResponse(status=413)
    try:
        reports = _csp_reports(json.loads(body))
    except ValueError:  # not JSON, or not UTF-8
        return HttpResponse(status=400)
    if not reports:
        return HttpResponse(status=400)
    for report in reports:
        csp_logger.warning(
            "Content-Security-Policy violation: %s",
            " ".join(f"{key}={str(value)[:200]!r}" for key, value in report.items() if value),
        )
    return HttpResponse(status=204)
