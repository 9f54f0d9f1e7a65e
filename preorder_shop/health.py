"""Health endpoints for a load balancer and monitors, cheap and unauthenticated.

/healthz: the process answers (no store is touched). /readyz: PostgreSQL and Redis both
answer within a second; 503 with which one did not, so traffic goes elsewhere while a
store restarts."""

import redis
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

TIMEOUT_SECONDS = 1


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_answers(), "redis": _redis_answers()}
    ready = all(checks.values())
    body = {"status": "ready" if ready else "not_ready", **{k: bool(v) for k, v in checks.items()}}
    return JsonResponse(body, status=200 if ready else 503, headers=_retry(ready))


def _retry(ready: bool) -> dict:
    return {} if ready else {"Retry-After": "5"}


def _database_answers() -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = '{TIMEOUT_SECONDS}s'")
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        connection.close()  # a broken connection is not kept for the next request
        return False


def _redis_answers() -> bool:
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=TIMEOUT_SECONDS,
        socket_connect_timeout=TIMEOUT_SECONDS,
    )
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()
