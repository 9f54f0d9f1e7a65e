import secrets
import time
import uuid

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

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
