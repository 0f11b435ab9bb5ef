"""Guest counts in Redis: one sorted set per counter, one Lua script per use.

Each counter is a sorted set of use ids scored by their instant in milliseconds. The
script trims what has left each window, reads every count, and adds the use to all of
them only when every one is below its limit and the use id is new: Redis runs a script
alone, so fifty guests calling at once are admitted exactly up to the limit. The instant
is the engine's clock, passed in, so a test drives the window with a manual clock.

A Redis that does not answer within its timeout raises `Unavailable`: the guest is refused
with a 503, never let through uncounted. The script's keys must live on one Redis (no
cluster slots across them), which a single primary, with or without replicas, is.
"""

from collections.abc import Sequence
from typing import Any

import redis
from redis.commands.core import Script

from creditgate.domain.errors import Unavailable
from creditgate.domain.guests import Counter, Window
from creditgate.engine.guests import Taken

PREFIX = "creditgate:guest:"
"""Every counter's key starts so, apart from whatever else the Redis holds."""

_TAKE = """
local now = tonumber(ARGV[1])
local use = ARGV[2]
local out = {0, 0}
local fits = true
for i = 1, #KEYS do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[i])
  local first = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
  if redis.call('ZSCORE', KEYS[i], use) then out[1] = 1 end
  if count >= limit then fits = false end
  out[#out + 1] = count
  out[#out + 1] = first[2] or '-1'
end
if out[1] == 0 and fits then
  for i = 1, #KEYS do
    redis.call('ZADD', KEYS[i], now, use)
    redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 + 2 * i]))
  end
  out[2] = 1
end
return out
"""


def _window(count: Any, oldest: Any) -> Window:
    first = int(float(oldest))
    return Window(int(count), None if first < 0 else first)


class RedisCounter:
    """A `GuestCounter` over one Redis."""

    def __init__(self, client: redis.Redis, *, prefix: str = PREFIX) -> None:
        self.client = client
        self.prefix = prefix
        self._take: Script = client.register_script(_TAKE)

    @classmethod
    def from_url(cls, url: str, *, timeout_s: float = 0.5, prefix: str = PREFIX) -> "RedisCounter":
        """A counter on the Redis at `url` (`redis://host:6379/0`), failing within `timeout_s`."""
        client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        return cls(client, prefix=prefix)

    def take(self, counters: Sequence[Counter], now_ms: int, use_id: str, session_id: str) -> Taken:
        """See `GuestCounter.take`; the engine records a new session in the database."""
        args: list[int | str] = [now_ms, use_id]
        for counter in counters:
            args += [counter.limit, counter.window_ms]
        try:
            out = self._take(keys=[self.prefix + c.key for c in counters], args=args)
        except redis.RedisError as exc:
            raise Unavailable(service="redis", reason=type(exc).__name__) from exc
        windows = tuple(_window(out[2 + 2 * i], out[3 + 2 * i]) for i in range(len(counters)))
        return Taken(windows, replayed=out[0] == 1, recorded=out[1] == 1)

    def look(self, counters: Sequence[Counter], now_ms: int) -> tuple[Window, ...]:
        """See `GuestCounter.look`."""
        pipe = self.client.pipeline(transaction=False)
        for counter in counters:
            key = self.prefix + counter.key
            low = f"({now_ms - counter.window_ms}"
            pipe.zcount(key, low, "+inf")
            pipe.zrangebyscore(key, low, "+inf", start=0, num=1, withscores=True)
        try:
            out = pipe.execute()
        except redis.RedisError as exc:
            raise Unavailable(service="redis", reason=type(exc).__name__) from exc
        windows = []
        for i in range(len(counters)):
            first = out[2 * i + 1]
            windows.append(_window(out[2 * i], first[0][1] if first else -1))
        return tuple(windows)

    def close(self) -> None:
        """Release the connections."""
        self.client.close()
