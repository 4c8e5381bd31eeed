"""The Redis cache keeps its connections: one pool per process, whatever makes the request."""

import threading

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.urls import path

from mybella.core.asgi import ThreadKeepingASGIHandler
from mybella.tests.asgi_requests import get


def _connection_id(request):
    # Redis numbers every connection it accepts: the same number is the same connection.
    return HttpResponse(str(cache._cache.get_client().client_id()))


urlpatterns = [path("connection/", _connection_id)]


@pytest.fixture
def handler(settings, shared_cache):
    settings.ROOT_URLCONF = __name__
    settings.ALLOWED_HOSTS = ["testserver"]
    return ThreadKeepingASGIHandler()


def test_requests_one_after_another_use_one_redis_connection(handler):
    """Django gives every ASGI request a cache object of its own (ticket #33625); with
    Django's Redis backend each had pools of its own, so each request opened a connection."""
    assert len({get(handler, "/connection/") for _ in range(5)}) == 1


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
