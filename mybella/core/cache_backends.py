"""Django's Redis cache, keeping its connections and its Redis clients.

Django makes a cache object for every thread and, under ASGI, for every request (its
`CacheHandler` keeps them in an `asgiref.Local`: Django ticket #33625), and its Redis client
gives each cache object connection pools of its own: so every request opened a new Redis
connection (TCP, `HELLO`, `CLIENT SETINFO` with the library's version read from its package
metadata), used it and left it to the garbage collector to close, about 1 ms of a cached read's
2 under load, and as many connections open at once as requests not yet collected. Here the
pools are the process's: one per server and options, made once, shared by every cache object
(a pool is thread-safe, and after a fork it drops the parent's connections by itself).

Django 5.2's `RedisCacheClient.get_client()` builds a new `redis.Redis` for every operation,
over the same connection pool. With redis-py 8 that costs about 0.2 ms (the client copies its
~170 response callbacks into a case-insensitive dict), more than the round trip itself on
loopback, and a hot API request makes several (its throttle, its cached reads). A client is a
thin object over its pool and safe to share between threads, so here each pool's client is
built once and kept. `CACHE_URL=redis://…` selects this backend (mybella/settings.py).

It also counts a rate limit's window in one round trip (`count_in_window`, for
`mybella.core.throttles.window_hit`), where `incr` takes two (EXISTS, then INCR).
"""

import threading
from typing import Any

from django.core.cache.backends import redis as django_redis
from redis.commands.core import Script

# INCR the window's counter, and give it the window's length when it has no expiry yet (it
# was just made; or an older INCR met it as it expired): (uses, seconds left). Atomic.
_COUNT_IN_WINDOW = """
local used = redis.call('INCR', KEYS[1])
local left = redis.call('TTL', KEYS[1])
if left < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {used, left}
"""


# The process's Redis clients, one per server and pool options, each over a pool of its own;
# kept for the life of the process.
_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


class RedisCacheClient(django_redis.RedisCacheClient):
    """Django's client over the process's pools and clients, not its own per cache object."""

    def get_client(self, key: str | None = None, *, write: bool = False) -> Any:
        server = self._servers[self._get_connection_pool_index(write)]
        # The options hold classes and plain values: their repr tells one set from another.
        name = (server, repr((self._pool_class, sorted(self._pool_options.items()))))
        client = _clients.get(name)
        if client is None:
            with _clients_lock:  # two threads' first requests would each make a pool
                client = _clients.get(name)
                if client is None:
                    pool = self._pool_class.from_url(server, **self._pool_options)
                    client = _clients[name] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    """`django.core.cache.backends.redis.RedisCache` with `RedisCacheClient` above."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
        self._script: Script | None = None

    def count_in_window(self, key: str, seconds: int) -> tuple[int, int]:
        """Count one use of `key` in a window of `seconds` that opens at its first use, in one
        round trip; return (uses so far, seconds until the window closes)."""
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key, write=True)
        if self._script is None:
            self._script = Script(client, _COUNT_IN_WINDOW)  # EVALSHA, loaded when missing
        used, left = self._script(keys=[key], args=[seconds], client=client)
        return int(used), int(left)
