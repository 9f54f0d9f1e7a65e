"""Send no faster than the provider accepts: a channel's contracted rate (messages a second,
settings.OUTBOX_SEND_RATES) shared by every worker process through Redis.

A provider answers a message beyond its rate with "429 Too Many Requests"; the outbox would
record that as a failed attempt and try again after its backoff (30 s first), so a burst of
acknowledgements would trickle out in waves. Instead each sender asks for its turn before
calling the provider and waits for it: the generic cell rate algorithm (GCRA), one Redis key
per channel holding the theoretical arrival time of the next message. Each call reserves the
next free instant atomically and returns how long to wait for it; `burst` messages may go at
once after a quiet spell. Turns are reserved only by senders about to send, so a wait is
bounded by the number of sending processes over the rate, not by the backlog.

Pacing fails open: while Redis cannot be reached a message is sent at once (the provider's
own limit and the outbox's retries still hold), logged.
"""

import logging
import time

from django.conf import settings

from . import ratelimit

logger = logging.getLogger(__name__)

KEY = "outbox:pace:{channel}"

# KEYS[1]: the channel's theoretical arrival time (seconds, float). ARGV: now, the interval
# between messages (1 / rate), the tolerance ((burst - 1) * interval). Returns the wait.
GCRA = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local wait = math.max(tat - tolerance - now, 0)
local expire_ms = math.ceil((tat + interval - now) * 1000) + 1000
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', expire_ms)
return tostring(wait)
"""


def rate_of(channel: str) -> tuple[float, int] | None:
    """(messages a second, burst) for `channel`, or None when it is not paced."""
    setting = settings.OUTBOX_SEND_RATES.get(channel)
    return (float(setting[0]), int(setting[1])) if setting else None


def reserve_turn(channel: str, *, now: float | None = None) -> float:
    """Reserve the channel's next turn; return the seconds until it (0: send now)."""
    pace = rate_of(channel)
    if pace is None:
        return 0.0
    rate, burst = pace
    interval = 1.0 / rate
    try:
        wait = ratelimit.redis_client().eval(
            GCRA,
            1,
            KEY.format(channel=channel),
            repr(time.time() if now is None else now),
            repr(interval),
            repr(max(burst - 1, 0) * interval),
        )
    except ratelimit.UNREACHABLE as error:
        logger.warning("outbox: %s is not paced, Redis is unreachable (%s)", channel, error)
        return 0.0
    return float(wait)


def wait_for_turn(channel: str) -> None:
    """Block until the channel may send one more message."""
    wait = reserve_turn(channel)
    if wait > 0:
        time.sleep(wait)
