"""The ASGI handler reuses the threads that ran earlier requests' synchronous code."""

import asyncio
import threading

import pytest
from django.db import connection
from django.http import HttpResponse
from django.urls import path

from mybella.core import asgi

BOTH_IN = threading.Barrier(2, timeout=10)


def _thread(request):
    return HttpResponse(str(threading.get_ident()))


def _together(request):
    BOTH_IN.wait()  # each request holds its thread until the other has one too
    return HttpResponse(str(threading.get_ident()))


def _connection(request):
    connection.ensure_connection()
    return HttpResponse(str(id(connection.connection)))


urlpatterns = [
    path("thread/", _thread),
    path("together/", _together),
    path("connection/", _connection),
]


@pytest.fixture
def handler(settings):
    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["testserver"]
    return asgi.ThreadKeepingASGIHandler()


def _get(handler, url: str) -> str:
    async def call() -> str:
        return await _call(handler, url)

    return asyncio.run(call())


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
    sent, asked = [], asyncio.Event()

    async def receive():
        if not asked.is_set():
            asked.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # no disconnect while the response is made

    async def send(message):
        sent.append(message)

    await handler(scope, receive, send)
    assert sent[0]["status"] == 200, sent
    return b"".join(m.get("body", b"") for m in sent[1:]).decode()


def test_requests_one_after_another_run_in_one_thread(handler):
    # Django's own handler makes a thread per request: each request a new connection.
    threads = {_get(handler, "/thread/") for _ in range(3)}
    assert len(threads) == 1
    assert len(handler.idle) == 1


def test_requests_at_once_run_in_threads_of_their_own(handler):
    async def both() -> list[str]:
        return await asyncio.gather(_call(handler, "/together/"), _call(handler, "/together/"))

    first, second = asyncio.run(both())  # one shared thread would never pass the barrier
    assert first != second
    assert len(handler.idle) == 2
    assert _get(handler, "/thread/") in (first, second)


def test_idle_threads_beyond_those_kept_end(handler, monkeypatch):
    monkeypatch.setattr(asgi, "IDLE_THREADS_KEPT", 1)

    async def both() -> list[str]:
        return await asyncio.gather(_call(handler, "/together/"), _call(handler, "/together/"))

    asyncio.run(both())
    assert len(handler.idle) == 1


@pytest.mark.django_db(transaction=True)
def test_a_sqlite_connection_serves_the_next_request(handler, settings):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's connections come from a pool")
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 600
    connection.settings_dict["CONN_MAX_AGE"] = 600
    assert _get(handler, "/connection/") == _get(handler, "/connection/")
