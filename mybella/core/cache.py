"""Cached API reads behind versioned keys, answered conditionally (`ETag`, `If-None-Match`),
whole pages (`cached_page`, the CSRF token put in per request) and pieces of HTML.

A read names the versions its data depends on (`"personas"`); the writes that change that
data call `bump("personas")`, which gives the name a new random version, so every entry built
under the old one is built again on its next read. A version lives in the same
cache as the data, so a cache shared by the web processes (Redis) shares both.
"""

import functools
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from django.apps import apps
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import parse_etags, quote_etag
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from mybella.core.checks import UNSHARED_CACHES

T = TypeVar("T")

# How long a cached read may live: it also bounds how old a signed media URL inside it gets.
CACHED_READ_SECONDS = 300


def _version_key(name: str) -> str:
    return f"v1:version:{name}"


def version(name: str) -> str:
    """Return the current version of `name`, starting one if there is none."""
    current = cache.get(_version_key(name))
    if current is None:
        current = uuid.uuid4().hex
        if not cache.add(_version_key(name), current, timeout=None):
            current = cache.get(_version_key(name), current)
    return current


def bump(name: str) -> None:
    """Give `name` a new version: every cached read that depends on it is read afresh."""
    cache.set(_version_key(name), uuid.uuid4().hex, timeout=None)


def bump_on_commit(name: str) -> None:
    """Give `name` a new version when the current transaction commits (at once outside one):
    one bump per name and transaction however many rows it writes.

    Only on commit: until then no other request sees the new rows, so a read there caches
    the old ones under the old version, which the bump at commit retires. A bump before the
    commit as well would only let such a read cache the old rows under a version the commit
    retires again, one more cache write held inside the transaction (on SQLite, inside its
    write lock). A rolled-back write bumps nothing: no other request saw it. For versions
    whose cached reads are never built inside a transaction that writes their rows (GETs).
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        # A bump already due at this commit stays due unless a savepoint holding it rolls
        # back, which takes this write back with it (savepoints nest).
        for _savepoints, func, _robust in connection.run_on_commit:
            if getattr(func, "version_name", None) == name:
                return

    def bump_version() -> None:
        bump(name)

    bump_version.version_name = name  # type: ignore[attr-defined]
    transaction.on_commit(bump_version, robust=True)


def cache_is_shared() -> bool:
    """Return whether every process (web and task workers) sees this cache: not one of the
    per-process caches `manage.py check --deploy` warns about (`UNSHARED_CACHES`)."""
    return settings.CACHES["default"]["BACKEND"] not in UNSHARED_CACHES


def _lookup(cache_key: str, names: list[str]) -> tuple[Any, list[str]]:
    """Return the entry under `cache_key` if it was built under the current versions of `names`
    (else None), and those versions: one round trip when they all exist."""
    version_keys = [_version_key(name) for name in names]
    found = cache.get_many([cache_key, *version_keys])
    versions = [found.get(k) for k in version_keys]
    if None in versions:
        versions = [version(name) for name in names]
    entry = found.get(cache_key)
    if entry is not None and entry["versions"] != versions:
        entry = None
    return entry, versions


def cached_read(
    request: Request,
    *,
    key: Iterable[object],
    depends_on: Iterable[str],
    build: Callable[[], Any],
    written_by_tasks: bool = False,
) -> Response:
    """Return `build()`'s data from the cache (built on a miss), with an ETag.

    `key` names what is read (the caller, ids, query); the request's scheme, host and query
    string are added, since absolute URLs in the data depend on them. The entry keeps the
    versions it was built under and counts only while they are current: the entry and the
    versions come in one round trip. A request whose `If-None-Match` holds the current ETag
    is answered 304 without a body.

    `written_by_tasks`: task workers write the data too (a memory extracted after a send), so
    their bumps must reach the web processes: with a per-process cache (`cache_is_shared()`
    false: `make run`'s default, where the worker is a process of its own) the data is built
    on every read, never stored.
    """
    if written_by_tasks and not cache_is_shared():
        return Response(build())
    names = list(depends_on)
    parts = [*key, request.scheme, request.get_host(), request.META.get("QUERY_STRING", "")]
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()
    cache_key = f"v2:read:{digest}"  # v2: entries hold the rendered body
    entry, versions = _lookup(cache_key, names)
    if entry is None:
        # Kept as the API renders it (JSON alone: `DEFAULT_RENDERER_CLASSES`), so a hit
        # neither unpickles nor renders the data again, and a miss renders it once.
        body = JSONRenderer().render(build())
        entry = {
            "versions": versions,
            "body": body,
            "etag": quote_etag(hashlib.sha256(body).hexdigest()[:32]),
        }
        cache.set(cache_key, entry, timeout=CACHED_READ_SECONDS)
    etag = entry["etag"]
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization, Cookie"}
    # If-None-Match compares weakly (RFC 9110): W/"x" matches "x".
    sent = {tag.removeprefix("W/") for tag in parse_etags(request.headers.get("If-None-Match", ""))}
    if etag in sent or "*" in sent:
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return HttpResponse(entry["body"], content_type=JSONRenderer.media_type, headers=headers)


@functools.cache
def code_version() -> str:
    """Return a digest of the code that renders HTML: the project's templates and modules.

    Cached HTML is keyed on it, so a deploy that changes a template, a template tag or the
    markdown renderer is never answered with markup the old code built. Read once per process,
    from the files' contents (the same on every machine that runs the same code).
    """
    root = Path(settings.BASE_DIR)
    folders = [Path(d) for engine in settings.TEMPLATES for d in engine.get("DIRS", [])]
    folders += [
        Path(app.path) for app in apps.get_app_configs() if Path(app.path).is_relative_to(root)
    ]
    digest = hashlib.sha256()
    files = {
        p
        for folder in folders
        for pattern in ("**/*.html", "**/*.py")
        for p in folder.glob(pattern)
    }
    for path in sorted(files):
        name = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
        if {"tests", "migrations"} & set(name.parts):
            continue
        digest.update(str(name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _locale() -> list[str]:
    """Return what else rendered HTML depends on: the code, the language and the time zone."""
    return [code_version(), get_language() or "", timezone.get_current_timezone_name()]


# What a cached page holds where its forms' CSRF token goes: the token is the visitor's own,
# so it is put in on every request, never cached.
CSRF_PLACEHOLDER = "csrf-placeholder-5b1e0c9d"


def cached_page(
    request: HttpRequest,
    template_name: str,
    *,
    key: Iterable[object],
    depends_on: Iterable[str],
    context: Callable[[], dict[str, Any]],
    keep: Callable[[dict[str, Any]], bool] = lambda context: True,
) -> HttpResponse:
    """Return the whole page `template_name` renders with `context()`, from the cache.

    For a signed-in page whose every datum is named by `key` and `depends_on` (versions, as
    in `cached_read`): a hit reads nothing but the cache. The page is the caller's own (their
    id and staff flag are in the key), rendered without the request's context processors:
    `user`, `request` and `messages` are given, and `csrf_token` is `CSRF_PLACEHOLDER`,
    replaced in every answer by the request's own token (a CSRF token is never cached). A
    request with flash messages to show is rendered afresh and not stored (they show once).
    `keep(context)` says after a build whether the page may be stored: one that changes with
    the clock, say, is not.
    """
    user = request.user
    messages = get_messages(request)
    fresh = bool(len(messages))
    parts = [template_name, user.pk, user.is_staff, *key, *_locale()]
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()
    cache_key = f"v1:page:{digest}"
    entry, versions = (None, []) if fresh else _lookup(cache_key, list(depends_on))
    if entry is None:
        data = context()
        page = {
            **data,
            "user": user,
            "request": request,
            "messages": messages,
            "csrf_token": CSRF_PLACEHOLDER,
        }
        entry = {"versions": versions, "html": render_to_string(template_name, page)}
        if not fresh and keep(data):
            cache.set(cache_key, entry, timeout=CACHED_READ_SECONDS)
    html = entry["html"]
    if CSRF_PLACEHOLDER in html:
        html = html.replace(CSRF_PLACEHOLDER, get_token(request))
    return HttpResponse(html)


def cached_pieces(
    items: Sequence[T],
    *,
    key: Callable[[T], Iterable[object] | None],
    build: Callable[[T], str],
) -> list[SafeString]:
    """Return each item's HTML as `build(item)` renders it, from the cache where it was built.

    `key(item)` names everything the piece shows, so a changed item has a new key and no
    write needs to say so; an item whose key is None (its markup depends on the clock, say)
    is built every time. One round trip reads every piece, one stores those built. `build`
    must not put a CSRF token in (a form belongs in a `cached_page`).
    """
    keys = []
    locale = _locale()
    for item in items:
        parts = key(item)
        digest = None if parts is None else json.dumps([*parts, *locale], default=str)
        keys.append(
            None if digest is None else f"v1:piece:{hashlib.sha256(digest.encode()).hexdigest()}"
        )
    found = cache.get_many([k for k in keys if k is not None])
    built: dict[str, str] = {}
    pieces = []
    for item, cache_key in zip(items, keys, strict=True):
        html = found.get(cache_key) if cache_key is not None else None
        if html is None:
            html = str(build(item))
            if cache_key is not None:
                built[cache_key] = html
        pieces.append(mark_safe(html))  # noqa: S308 - rendered by our templates
    if built:
        cache.set_many(built, timeout=CACHED_READ_SECONDS)
    return pieces
