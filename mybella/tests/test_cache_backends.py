"""The Redis cache keeps its connections: one pool per process, whatever makes the request."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.urls import path

from mybella.core.asgi import ThreadKeepingASGIHandler


def _connection_id(request):
    # Redis numbers every connection it accepts: the same number is the same connection.
    return HttpResponse(str(cache._cache.get_client().client_id()))


urlpatterns = [path("connection/", _connection_id)]


async def _call(handler, url: str) -> str:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict] = []
    asked = asyncio.Event()

    async def receive():
        if not asked.is_set():
            asked.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()

    async def send(message):
        sent.append(message)

    await handler(scope, receive, send)
    assert sent[0]["status"] == 200, sent
    return b"".join(m.get("body", b"") for m in sent[1:]).decode()


@pytest.fixture
def handler(settings, shared_cache):
    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["testserver"]
    return ThreadKeepingASGIHandler()


def _get(handler, url: str) -> str:
    # A loop in a thread of its own (Playwright's may own this one).
    with ThreadPoolExecutor(1) as executor:
        return executor.submit(asyncio.run, _call(handler, url)).result()


def test_requests_one_after_another_use_one_redis_connection(handler):
    """Django gives every ASGI request a cache object of its own (ticket #33625); with
    Django's Redis backend each had pools of its own, so each request opened a connection."""
    assert len({_get(handler, "/connection/") for _ in range(5)}) == 1


def test_threads_one_after_another_use_one_redis_connection(shared_cache):
    """Django's cache objects are per thread: a new thread's is new, its connection is not."""
    seen = []

    def in_a_new_thread() -> None:
        seen.append(cache._cache.get_client().client_id())

    for _ in range(5):
        thread = threading.Thread(target=in_a_new_thread)
        thread.start()
        thread.join()
    assert len(set(seen)) == 1


def test_caches_on_other_servers_keep_pools_of_their_own(settings, shared_cache):
    before = cache._cache.get_client()
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:6379/13"}
    }
    after = cache._cache.get_client()
    assert after is not before
    assert after.connection_pool.connection_kwargs["db"] == 13
    assert before.connection_pool.connection_kwargs["db"] == 14
