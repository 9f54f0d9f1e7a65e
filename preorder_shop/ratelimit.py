"""Fixed-window counters in Redis, shared by every web worker.

A limit counts hits per key; once `max_hits` is reached the key stays blocked until its window
runs out. `lock_seconds` (for lockouts such as "5 wrong codes lock the number for 15 minutes")
restarts the window at the hit that reached the limit, so the lock lasts its full length.
"""

import functools
from dataclasses import dataclass

import redis
from django.conf import settings


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window_seconds: int
    lock_seconds: int | None = None

    def key(self, subject: str) -> str:
        return f"ratelimit:{self.name}:{subject}"


@functools.cache
def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def blocked_for(limit: Limit, subject: str) -> int:
    """Seconds until `subject` may try again, or 0 when it is not blocked."""
    pipe = _client().pipeline()
    pipe.get(limit.key(subject))
    pipe.ttl(limit.key(subject))
    count, ttl = pipe.execute()
    if count is not None and int(count) >= limit.max_hits:
        return max(int(ttl), 1)
    return 0


def hit(limit: Limit, subject: str) -> int:
    """Count one hit; return the count within the current window."""
    key = limit.key(subject)
    pipe = _client().pipeline()
    pipe.incr(key)
    pipe.expire(key, limit.window_seconds, nx=True)
    count = pipe.execute()[0]
    if limit.lock_seconds and count == limit.max_hits:
        _client().expire(key, limit.lock_seconds)
    return int(count)


def reset(limit: Limit, subject: str) -> None:
    _client().delete(limit.key(subject))


# Takes back one hit, never below zero and never reviving an expired key.
_REFUND = """
if redis.call('exists', KEYS[1]) == 1 and tonumber(redis.call('get', KEYS[1])) > 0 then
    return redis.call('decr', KEYS[1])
end
return 0
"""


def refund(limit: Limit, subject: str) -> None:
    """Take back a hit counted before it was judged, once it turns out not to count (a
    right code counted as a possible wrong one)."""
    _client().eval(_REFUND, 1, limit.key(subject))
