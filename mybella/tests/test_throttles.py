"""The client address behind trusted proxies, and the counters every limit uses."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from django.test import RequestFactory

from mybella.core.throttles import (
    Limited,
    RateLimit,
    WindowScopedRateThrottle,
    auth_attempt,
    client_ip,
    window_hit,
)
from mybella.tests.test_project import _python

XFF = "10.9.9.9, 203.0.113.5, 198.51.100.7"


def _request(xff: str | None = XFF, remote_addr: str = "192.0.2.1"):
    extra = {"REMOTE_ADDR": remote_addr}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().post("/users/login/", **extra)


def test_no_trusted_proxy_means_the_peer_address_never_the_header(settings):
    settings.TRUSTED_PROXIES = 0
    assert client_ip(_request()) == "192.0.2.1"


@pytest.mark.parametrize(
    ("proxies", "expected"),
    [(1, "198.51.100.7"), (2, "203.0.113.5"), (3, "10.9.9.9"), (9, "10.9.9.9")],
)
def test_trusted_proxies_pick_the_address_the_outermost_trusted_proxy_saw(
    settings, proxies, expected
):
    """Each trusted proxy appends the address it received from: count them from the right."""
    settings.TRUSTED_PROXIES = proxies
    assert client_ip(_request()) == expected


def test_without_the_header_the_peer_address_is_the_client(settings):
    settings.TRUSTED_PROXIES = 1
    assert client_ip(_request(xff=None)) == "192.0.2.1"
    assert client_ip(_request(xff="  ")) == "192.0.2.1"


def test_drf_throttles_count_proxies_the_same_way():
    """NUM_PROXIES follows TRUSTED_PROXIES, so DRF's scoped throttles agree with client_ip."""
    result = _python(
        "import django; django.setup();"
        "from rest_framework.settings import api_settings;"
        "print(api_settings.NUM_PROXIES)",
        TRUSTED_PROXIES="2",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"
    result = _python(
        "import django; django.setup();"
        "from rest_framework.settings import api_settings;"
        "print(api_settings.NUM_PROXIES)",
    )
    assert result.stdout.strip() == "0"


def test_rate_limit_counts_per_key_and_says_how_long_to_wait(settings):
    settings.THROTTLE_SIGNUP = "2/hour"
    limit = RateLimit("signup", "THROTTLE_SIGNUP")
    assert limit.hit("a") is None
    assert limit.hit("a") is None
    wait = limit.hit("a")
    assert wait is not None and 1 <= wait <= 3600
    assert limit.hit("b") is None  # another key has its own count


def test_rate_limit_can_give_back_a_use(settings):
    settings.THROTTLE_AUTH_ACCOUNT = "1/min"
    limit = RateLimit("account", "THROTTLE_AUTH_ACCOUNT")
    assert limit.hit("alice") is None
    limit.undo("alice")
    assert limit.hit("alice") is None
    assert limit.hit("alice") is not None


@pytest.mark.parametrize("rate", ["20/min", "10/hour", "5/s", "100/day"])
def test_rates_read_like_drf_rates(settings, rate):
    settings.THROTTLE_AUTH = rate
    assert RateLimit("address", "THROTTLE_AUTH").rate()[0] == int(rate.split("/")[0])


def test_ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4(settings):
    """One IPv6 host owns a whole /64: rotating within it buys no extra tries."""
    settings.THROTTLE_AUTH = "1/min"
    auth_attempt(_request(xff=None, remote_addr="2001:db8:0:7::1"), username="a")
    with pytest.raises(Limited):
        auth_attempt(_request(xff=None, remote_addr="2001:db8:0:7:ffff::9"), username="b")
    auth_attempt(_request(xff=None, remote_addr="2001:db8:0:8::1"), username="c")
    auth_attempt(_request(xff=None, remote_addr="192.0.2.50"), username="d")
    with pytest.raises(Limited):
        auth_attempt(_request(xff=None, remote_addr="::ffff:192.0.2.50"), username="e")


OURS = "mybella.core.cache_backends.RedisCache"  # what CACHE_URL=redis://… selects
DJANGOS = "django.core.cache.backends.redis.RedisCache"  # counts with incr: EXISTS, then INCR


def _redis_cache(settings, backend: str):
    """The cache on the machine's Redis (database 15, a prefix of this test's own)."""
    prefix = f"throttle-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": backend,
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": prefix,
        }
    }
    from django.core.cache import cache

    yield cache
    client = cache._cache.get_client(write=True)
    if keys := client.keys(f"{prefix}:*"):  # its own keys only: clear() would empty the database
        client.delete(*keys)


@pytest.fixture(params=[OURS, DJANGOS])
def redis_cache(settings, request):
    """Either Redis backend: ours counts a window in one round trip, Django's with `incr`."""
    yield from _redis_cache(settings, request.param)


@pytest.fixture
def djangos_redis_cache(settings):
    yield from _redis_cache(settings, DJANGOS)


@pytest.fixture
def our_redis_cache(settings):
    yield from _redis_cache(settings, OURS)


def _redis(cache):
    client = cache._cache.get_client(write=True)
    return lambda name: client.ttl(cache.make_and_validate_key(name))


def test_a_window_is_one_counter_whatever_the_rate(redis_cache):
    """DRF's throttle keeps a list of every request's time in the period, read and written back
    whole each time (thousands at a high rate); a window here is one integer."""
    for _ in range(500):
        assert window_hit("k", 1000, 60) is None
    assert redis_cache.get("k") == 500
    assert 55 <= _redis(redis_cache)("k") <= 60


def test_a_counter_met_as_it_expired_gets_an_expiry(djangos_redis_cache, monkeypatch):
    """Django's Redis `incr` asks whether the key exists, then INCRs: if the window closed in
    between, Redis makes a new key with no expiry, which would count for ever."""
    from django.core.cache.backends.redis import RedisCacheClient

    def incr_racing_the_expiry(self, key, delta):  # the key was there when asked; it is gone
        return self.get_client(key, write=True).incr(key, delta)

    monkeypatch.setattr(RedisCacheClient, "incr", incr_racing_the_expiry)
    assert window_hit("k", 2, 60) is None
    assert 55 <= _redis(djangos_redis_cache)("k") <= 60
    assert window_hit("k", 2, 60) is None
    wait = window_hit("k", 2, 60)
    assert wait is not None and 55 <= wait <= 60


def test_parallel_hits_on_redis_let_exactly_the_limit_through(redis_cache):
    with ThreadPoolExecutor(max_workers=8) as pool:
        waits = list(pool.map(lambda _: window_hit("k", 5, 60), range(40)))
    assert waits.count(None) == 5
    assert all(1 <= wait <= 60 for wait in waits if wait is not None), waits


def test_a_use_given_back_as_its_window_closed_leaves_no_entry_behind(redis_cache, monkeypatch):
    """Both backends give a use back with Django's `decr` (EXISTS, then INCR -1)."""
    from django.core.cache.backends.redis import RedisCacheClient

    monkeypatch.setattr(
        RedisCacheClient, "incr", lambda self, key, delta: self.get_client(key).incr(key, delta)
    )
    RateLimit("account", "THROTTLE_AUTH_ACCOUNT").undo("alice")  # its window just closed
    assert _redis(redis_cache)(RateLimit("account", "")._key("alice")) == -2  # no such key


def test_the_apis_scoped_throttle_counts_in_one_integer(redis_cache, monkeypatch):
    """The API's scopes (and the pages counted in them) use the same counter: DRF's scope
    rates and keys, per user, counted by `window_hit`."""
    from rest_framework.throttling import ScopedRateThrottle

    from mybella.users.models import User

    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "search", "3/min")
    request = RequestFactory().get("/")
    request.user = User(pk=7)
    view = SimpleNamespace(throttle_scope="search")
    allowed = [WindowScopedRateThrottle().allow_request(request, view) for _ in range(4)]
    assert allowed == [True, True, True, False]
    throttle = WindowScopedRateThrottle()
    assert not throttle.allow_request(request, view)
    assert 55 <= throttle.wait() <= 60
    assert redis_cache.get("throttle_search_7") == 5


def test_a_window_is_counted_in_one_round_trip(our_redis_cache):
    """Django's `incr` takes two (EXISTS, then INCR); ours runs one script, loaded once."""
    client = our_redis_cache._cache.get_client(write=True)
    commands = []
    execute = client.execute_command

    def recorded(*args, **options):
        commands.append(args[0])
        return execute(*args, **options)

    client.execute_command = recorded
    window_hit("k", 2, 60)  # loads the script if Redis does not have it yet
    commands.clear()
    allowed, refused = window_hit("k", 2, 60), window_hit("k", 2, 60)
    assert allowed is None and 55 <= refused <= 60
    assert commands == ["EVALSHA", "EVALSHA"]


def test_a_counter_left_without_an_expiry_gets_one(our_redis_cache):
    """An INCR from Django's `incr` that met the counter as it expired made one with no
    expiry: the next count gives it the window's."""
    client = our_redis_cache._cache.get_client(write=True)
    client.set(our_redis_cache.make_and_validate_key("k"), 7)
    assert window_hit("k", 10, 60) is None
    assert 55 <= _redis(our_redis_cache)("k") <= 60
    assert our_redis_cache.get("k") == 8


def test_the_redis_backend_keeps_its_clients(our_redis_cache, monkeypatch):
    """Django's builds a `redis.Redis` per operation (about 0.2 ms with redis-py 8)."""
    import redis

    built = []
    init = redis.Redis.__init__
    monkeypatch.setattr(
        redis.Redis, "__init__", lambda self, *a, **kw: built.append(1) or init(self, *a, **kw)
    )
    for _ in range(5):
        our_redis_cache.set("k", 1)
        our_redis_cache.get("k")
        window_hit("w", 10, 60)
    assert len(built) <= 1  # none when an earlier test in this process made the client


def test_a_redis_cache_url_selects_the_backend_that_keeps_its_clients():
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    result = _python(code, CACHE_URL="redis://127.0.0.1:6379/15")
    assert result.stdout.strip() == OURS, result.stderr
    result = _python(code, CACHE_URL="locmemcache://x")
    assert result.stdout.strip() == "django.core.cache.backends.locmem.LocMemCache"


def test_a_cache_key_prefix_keeps_apps_sharing_one_redis_apart():
    code = "from django.conf import settings; print(settings.CACHES['default']['KEY_PREFIX'])"
    result = _python(code, CACHE_URL="redis://127.0.0.1:6379/15", CACHE_KEY_PREFIX="one")
    assert result.stdout.strip() == "one", result.stderr
    assert _python(code, CACHE_URL="redis://127.0.0.1:6379/15").stdout.strip() == ""


def test_a_cache_that_keeps_nothing_limits_nothing_and_fails_nothing(settings):
    """DRF's throttle let everything through on Django's dummy cache; so does this, no 500."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert [window_hit("k", 1, 60) for _ in range(3)] == [None, None, None]
