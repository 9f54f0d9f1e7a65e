"""Fixed-window counters in Redis, shared by every web worker.

A limit counts hits per key; once `max_hits` is reached the key stays blocked until its window
runs out. `lock_seconds` (for lockouts such as "5 wrong codes lock the number for 15 minutes")
restarts the window at the hit that reached the limit, so the lock lasts its full length.

Counters outlive a Redis restart (scripts/redis.conf: append-only file, fsync every second).
While Redis cannot be reached, each limit does what it says in `when_down`: FAIL_CLOSED lets
the store error through (the customer gets the 503 "try again" page of preorder_shop.outage),
FAIL_OPEN lets the request through uncounted and logs it. `why` says which and why; every
limit must state both.
"""

import enum
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)


class WhenDown(enum.Enum):
    FAIL_CLOSED = "closed"
    FAIL_OPEN = "open"


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window_seconds: int
    when_down: WhenDown
    why: str
    lock_seconds: int | None = None

    def __post_init__(self) -> None:
        if not self.why:
            raise ValueError(f"limit {self.name} must say why it fails {self.when_down.value}")

    def key(self, subject: str) -> str:
        return f"ratelimit:{self.name}:{subject}"


@functools.cache
def redis_client() -> redis.Redis:
    """The shop's Redis for counters shared by every process (limits, send pacing)."""
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=1)


def _when_unreachable(limit: Limit, error: Exception, fallback: int) -> int:
    if limit.when_down is WhenDown.FAIL_CLOSED:
        raise error
    logger.warning("Rate limit %s is not enforced: Redis is unreachable (%s)", limit.name, error)
    return fallback


def blocked_for(limit: Limit, subject: str) -> int:
    """Seconds until `subject` may try again, or 0 when it is not blocked."""
    return blocked_for_longest([(limit, subject)])


def blocked_for_longest(subjects: Sequence[tuple[Limit, str]]) -> int:
    """Seconds until every (limit, subject) may try again, the longest wait, in one round
    trip (a poll asks two: its customer and its address); 0 when none is blocked."""
    pipe = redis_client().pipeline(transaction=False)
    for limit, subject in subjects:
        pipe.get(limit.key(subject))
        pipe.ttl(limit.key(subject))
    try:
        answers = pipe.execute()
    except UNREACHABLE as error:
        waits = [_when_unreachable(limit, error, fallback=0) for limit, _subject in subjects]
        return max(waits, default=0)
    wait = 0
    for (limit, _subject), count, ttl in zip(subjects, answers[::2], answers[1::2], strict=True):
        if count is not None and int(count) >= limit.max_hits:
            wait = max(wait, int(ttl), 1)
    return wait


def hit(limit: Limit, subject: str) -> int:
    """Count one hit; return the count within the current window."""
    key = limit.key(subject)
    pipe = redis_client().pipeline()
    pipe.incr(key)
    pipe.expire(key, limit.window_seconds, nx=True)
    try:
        count = pipe.execute()[0]
        if limit.lock_seconds and count == limit.max_hits:
            redis_client().expire(key, limit.lock_seconds)
    except UNREACHABLE as error:
        return _when_unreachable(limit, error, fallback=0)
    return int(count)


def reset(limit: Limit, subject: str) -> None:
    """Forget `subject`'s hits. Only ever lightens a limit, so while Redis is down it is
    skipped whatever the policy: the count stands, the safe side, and the request that
    already did its work (a sign-in committed) is not turned into an error."""
    try:
        redis_client().delete(limit.key(subject))
    except UNREACHABLE as error:
        logger.warning("Rate limit %s: not reset, Redis is unreachable (%s)", limit.name, error)


# Takes back one hit, never below zero and never reviving an expired key.
_REFUND = """
if redis.call('exists', KEYS[1]) == 1 and tonumber(redis.call('get', KEYS[1])) > 0 then
    return redis.call('decr', KEYS[1])
end
return 0
"""


def refund(limit: Limit, subject: str) -> None:
    """Take back a hit counted before it was judged, once it turns out not to count (a
    right code counted as a possible wrong one). Skipped while Redis is down, like reset."""
    try:
        redis_client().eval(_REFUND, 1, limit.key(subject))
    except UNREACHABLE as error:
        logger.warning("Rate limit %s: not refunded, Redis unreachable (%s)", limit.name, error)
