"""A simulated SMS provider for bench/support.py: settings.OUTBOX_CHANNELS["sms"] names it
(SMS_CHANNEL=bench.channels.ThrottledSmsChannel) in the benchmark's Celery worker.

Like a real provider's HTTP API: every call takes CALL_SECONDS, and the account may send
RATE messages a second. A shared token bucket in Redis (one for every worker process,
RATE tokens a second, at most BURST in hand) decides at the call's arrival; beyond it the
call is refused with a "429 Too Many Requests" error, which the outbox records and retries
later as it would any provider error. Each accepted message is counted in Redis with the
time it was accepted, so the driver can tell provider time from queue time.
"""

import time

import redis
from django.conf import settings

CALL_SECONDS = 0.05
RATE = 100.0
BURST = 100
BUCKET = "bench:sms:bucket"
ACCEPTED = "bench:sms:accepted"  # sorted set: idempotency key -> accepted at (Unix time)
THROTTLED = "bench:sms:throttled"  # counter

# KEYS[1] the bucket (hash: tokens, at); ARGV: now, rate, burst. 1 if a token was taken.
BUCKET_SCRIPT = """
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or ARGV[3])
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or ARGV[1])
local now = tonumber(ARGV[1])
tokens = math.min(tonumber(ARGV[3]), tokens + math.max(0, now - at) * tonumber(ARGV[2]))
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('EXPIRE', KEYS[1], 3600)
return taken
"""


class ProviderThrottled(Exception):
    """The provider's answer beyond the account's rate: HTTP 429."""


class ThrottledSmsChannel:
    _redis = None
    _take = None

    def send(self, *, recipient: str, subject: str, body: str, idempotency_key: str) -> None:
        cls = type(self)
        if cls._redis is None:
            cls._redis = redis.Redis.from_url(settings.REDIS_URL)
            cls._take = cls._redis.register_script(BUCKET_SCRIPT)
        arrived = time.time()
        taken = cls._take(keys=[BUCKET], args=[arrived, RATE, BURST])
        time.sleep(CALL_SECONDS)  # the round trip, accepted or not
        if not taken:
            cls._redis.incr(THROTTLED)
            raise ProviderThrottled("429 Too Many Requests")
        cls._redis.zadd(ACCEPTED, {idempotency_key: arrived})
