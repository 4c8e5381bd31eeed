"""System checks for a production setup whose protections would silently not hold."""

import os
import shlex
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# Caches that no second process can see: throttles and cached data would be per process.
UNSHARED_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": (
        "The cache is LocMemCache: every web process keeps its own, so each one counts API "
        "throttles separately (four processes let four times the limit through)."
    ),
    "django.core.cache.backends.dummy.DummyCache": (
        "The cache is DummyCache: nothing is kept, so API throttles never throttle."
    ),
}
HINT = (
    "Set CACHE_URL to a cache every web process shares, e.g. CACHE_URL=redis://127.0.0.1:6379/1 "
    "(or a database cache, dbcache://table_name, after `manage.py createcachetable`)."
)
SERVERS = ("gunicorn", "uvicorn")


def server_processes() -> int:
    """Return how many web processes the server was asked to start, as far as can be seen.

    Read WEB_CONCURRENCY (gunicorn and uvicorn both take their default worker count from
    it), GUNICORN_CMD_ARGS, and `-w`/`--workers` on a gunicorn or uvicorn command line.
    A server configuration file is not read; when nothing says otherwise, it is one.
    """
    counts = [_int(os.environ.get("WEB_CONCURRENCY"))]
    counts.append(_workers(shlex.split(os.environ.get("GUNICORN_CMD_ARGS", ""))))
    program = Path(sys.argv[0]) if sys.argv else Path()
    if any(server in (program.name, program.parent.name) for server in SERVERS):
        counts.append(_workers(sys.argv[1:]))
    return max([1, *(count for count in counts if count)])


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _workers(args: list[str]) -> int | None:
    found = None
    for index, arg in enumerate(args):
        if arg in ("-w", "--workers") and index + 1 < len(args):
            found = _int(args[index + 1]) or found
        elif arg.startswith("--workers="):
            found = _int(arg.partition("=")[2]) or found
        elif arg.startswith("-w") and arg[2:].isdigit():
            found = _int(arg[2:]) or found
    return found


def _unshared_cache_messages() -> list[checks.CheckMessage]:
    if settings.DEBUG:
        return []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    problem = UNSHARED_CACHES.get(backend)
    if problem is None:
        return []
    processes = server_processes()
    if processes > 1:
        return [
            checks.Error(
                f"{problem} This server runs {processes} processes.", hint=HINT, id="core.E001"
            )
        ]
    return [
        checks.Warning(
            f"{problem} That is only safe with a single web process on a single machine.",
            hint=HINT,
            id="core.W001",
        )
    ]


@checks.register(checks.Tags.caches, checks.Tags.security, deploy=True)
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Report a cache that web processes don't share: an error when there are several."""
    return _unshared_cache_messages()


def refuse_unshared_cache() -> None:
    """Refuse to serve from several processes whose throttles could not be shared."""
    for message in _unshared_cache_messages():
        if message.is_serious():
            raise ImproperlyConfigured(f"{message.msg} {message.hint}")
