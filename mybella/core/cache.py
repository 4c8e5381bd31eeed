"""Cached API reads behind versioned keys, answered conditionally (`ETag`, `If-None-Match`).

A read names the versions its data depends on (`"personas"`); the writes that change that
data call `bump("personas")`, which gives the name a new random version, so every entry built
under the old one is built again on its next read. A version lives in the same
cache as the data, so a cache shared by the web processes (Redis) shares both.
"""

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache
from django.utils.http import parse_etags, quote_etag
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

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


def cached_read(
    request: Request,
    *,
    key: Iterable[object],
    depends_on: Iterable[str],
    build: Callable[[], Any],
) -> Response:
    """Return `build()`'s data from the cache (built on a miss), with an ETag.

    `key` names what is read (the caller, ids, query); the request's scheme, host and query
    string are added, since absolute URLs in the data depend on them. The entry keeps the
    versions it was built under and counts only while they are current: the entry and the
    versions come in one round trip. A request whose `If-None-Match` holds the current ETag
    is answered 304 without a body.
    """
    names = list(depends_on)
    parts = [*key, request.scheme, request.get_host(), request.META.get("QUERY_STRING", "")]
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()
    cache_key = f"v1:read:{digest}"
    version_keys = [_version_key(name) for name in names]
    found = cache.get_many([cache_key, *version_keys])
    versions = [found.get(k) for k in version_keys]
    if None in versions:
        versions = [version(name) for name in names]
    entry = found.get(cache_key)
    if entry is None or entry["versions"] != versions:
        body = json.dumps(build(), cls=JSONEncoder).encode()
        entry = {
            "versions": versions,
            # Plain JSON data: a serializer's ReturnDict would pickle its serializer too.
            "data": json.loads(body),
            "etag": quote_etag(hashlib.sha256(body).hexdigest()[:32]),
        }
        cache.set(cache_key, entry, timeout=CACHED_READ_SECONDS)
    etag = entry["etag"]
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization, Cookie"}
    # If-None-Match compares weakly (RFC 9110): W/"x" matches "x".
    sent = {tag.removeprefix("W/") for tag in parse_etags(request.headers.get("If-None-Match", ""))}
    if etag in sent or "*" in sent:
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(entry["data"], headers=headers)
