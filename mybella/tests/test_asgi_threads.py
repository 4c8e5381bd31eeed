"""The ASGI handler reuses the threads that ran earlier requests' synchronous code."""

import asyncio
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from asgiref.sync import async_to_sync
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.http import HttpResponse
from django.urls import path

from mybella.core import asgi
from mybella.tests.asgi_requests import call, get, run

BOTH_IN = threading.Barrier(2, timeout=10)
SERIALS = itertools.count()
this_thread = threading.local()


def _serial() -> str:
    """The thread's number, never given to another (the OS reuses the ids of ended threads)."""
    if not hasattr(this_thread, "serial"):
        this_thread.serial = next(SERIALS)
    return str(this_thread.serial)


def _thread(request):
    return HttpResponse(_serial())


def _together(request):
    BOTH_IN.wait()  # each request holds its thread until the other has one too
    return HttpResponse(_serial())


def _connection(request):
    connection.ensure_connection()
    return HttpResponse(str(id(connection.connection)))


def _database(request):
    # The database this thread's connection opens (no query: the settings it holds).
    return HttpResponse(connection.settings_dict["NAME"])


def _other_database(request):
    _point_at("elsewhere")  # the settings change while this request is served
    return HttpResponse(_serial())


def _point_at(name: str) -> None:
    """Point new connections at another database, as tests sharing one with threads do."""
    connections.settings[DEFAULT_DB_ALIAS] = {
        **connections.settings[DEFAULT_DB_ALIAS],
        "NAME": name,
    }


urlpatterns = [
    path("thread/", _thread),
    path("together/", _together),
    path("connection/", _connection),
    path("database/", _database),
    path("other-database/", _other_database),
]


@pytest.fixture
def handler(settings):
    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["testserver"]
    original = connections.settings[DEFAULT_DB_ALIAS]
    yield asgi.ThreadKeepingASGIHandler()
    connections.settings[DEFAULT_DB_ALIAS] = original


def test_requests_one_after_another_run_in_one_thread(handler):
    # Django's own handler makes a thread per request: each request a new connection.
    threads = {get(handler, "/thread/") for _ in range(3)}
    assert len(threads) == 1
    assert len(handler.idle) == 1


def test_requests_at_once_run_in_threads_of_their_own(handler):
    async def both() -> list[str]:
        return await asyncio.gather(call(handler, "/together/"), call(handler, "/together/"))

    first, second = run(both)  # one shared thread would never pass the barrier
    assert first != second
    assert len(handler.idle) == 2
    assert get(handler, "/thread/") in (first, second)


def test_idle_threads_beyond_those_kept_end(handler, monkeypatch):
    monkeypatch.setattr(asgi, "IDLE_THREADS_KEPT", 1)

    async def both() -> list[str]:
        return await asyncio.gather(call(handler, "/together/"), call(handler, "/together/"))

    run(both)
    assert len(handler.idle) == 1


@pytest.mark.django_db(transaction=True)
def test_a_sqlite_connection_serves_the_next_request(handler, settings):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's connections come from a pool")
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 600
    connection.settings_dict["CONN_MAX_AGE"] = 600
    assert get(handler, "/connection/") == get(handler, "/connection/")


def test_kept_threads_do_not_serve_under_other_database_settings(handler):
    """A kept connection keeps the settings it was opened with: once the settings name
    another database (a test sharing its own with the server's threads), the threads that
    served under the old ones end, and the next request opens the database named now."""
    old = get(handler, "/database/")
    kept = get(handler, "/thread/")
    _point_at("elsewhere")
    assert get(handler, "/database/") == "elsewhere" != old
    assert get(handler, "/thread/") != kept
    assert len(handler.idle) == 1


def test_a_thread_whose_request_saw_the_settings_change_is_not_kept(handler):
    served_in = get(handler, "/other-database/")
    assert handler.idle == []
    assert get(handler, "/database/") == "elsewhere"
    assert get(handler, "/thread/") != served_in


def test_a_request_from_synchronous_code_runs_in_the_callers_thread(handler):
    """Through async_to_sync (a test client, a sync caller) Django's handler runs the view
    in the caller's thread, on its connection and in its transaction: so does this one."""

    def from_sync_code() -> tuple[str, str]:
        return async_to_sync(call)(handler, "/thread/"), _serial()

    with ThreadPoolExecutor(1) as executor:  # a thread without Playwright's loop
        served_in, caller = executor.submit(from_sync_code).result()
    assert served_in == caller
    assert handler.idle == []
