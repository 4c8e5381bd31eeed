"""Django's Redis cache, keeping its Redis clients.

Django 5.2's `RedisCacheClient.get_client()` builds a new `redis.Redis` for every operation,
over the same connection pool. With redis-py 8 that costs about 0.2 ms (the client copies its
~170 response callbacks into a case-insensitive dict), more than the round trip itself on
loopback, and a hot API request makes several (its throttle, its cached reads). A client is a
thin object over its pool and safe to share between threads, so here each pool's client is
built once and kept. `CACHE_URL=redis://…` selects this backend (mybella/settings.py).

It also counts a rate limit's window in one round trip (`count_in_window`, for
`mybella.core.throttles.window_hit`), where `incr` takes two (EXISTS, then INCR).
"""

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


class RedisCacheClient(django_redis.RedisCacheClient):
    """Django's client, building one `redis.Redis` per connection pool, not per operation."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}  # by id() of its pool (pools are kept for good)

    def get_client(self, key: str | None = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
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
