import secrets
import time
import uuid

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from preorder_shop import statements, tokens

from .models import FloorReservation


@csrf_exempt
@require_POST
def floor(request: HttpRequest) -> HttpResponse:
    """The least a reservation can cost: read the posted form, one ORM insert, a redirect.

    No session, no customer, no validation: what is left is Django, gunicorn and one INSERT.
    """
    row = FloorReservation.objects.create(
        campaign_id=1,
        variant_id=int(request.POST["variant"]),
        customer_id=1,
        fulfilment=request.POST["fulfilment"],
        number=str(10_000_000 + secrets.randbelow(90_000_000)),
        position=time.monotonic_ns(),
        slot=1,
        status="active",
        idempotency_key=uuid.UUID(request.POST["idempotency_key"]),
        created_at=timezone.now(),
    )
    return HttpResponseRedirect(f"/bench/floor/{row.pk}/")


# About the size of an order's status JSON (1.2 kB), so the floor sends as many bytes.
STATUS_FLOOR_BODY = {"status": "received", "padding": "x" * 1150}


@require_GET
def status_floor(request: HttpRequest) -> JsonResponse:
    """The least a status poll can cost (bench/polling.py): a constant JSON 200 through the
    whole middleware stack, under /api/ like the real one. The poller's Authorization header
    arrives and is never read: no token lookup, no query."""
    return JsonResponse(STATUS_FLOOR_BODY)


@require_GET
def status_floor_query(request: HttpRequest) -> JsonResponse:
    """The floor plus the least a database read can cost (bench/polling.py's "floor+1q"):
    the poller's token looked up by one prepared statement (preorder_shop.tokens), then the
    same constant JSON. Not a target: it shows what any poll that reads PostgreSQL pays."""
    raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")[2]
    statements.fetchone(tokens.LIVE_BY_HASH, tokens.live_parameters(raw))
    return JsonResponse(STATUS_FLOOR_BODY)
