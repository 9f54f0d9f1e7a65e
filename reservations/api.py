"""Campaigns for the API (issue 13): the campaign page's selectors, as JSON. Public; with a
token, "what you can do now" is the customer's own, exactly as the page says it. And the
launch-hour door: reserve a variant (reservations.services.reserve, as the campaign page's
form does), made idempotent by the `Idempotency-Key` header as the form by its hidden key."""

import datetime as dt

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from preorder_shop.api import (
    OPTIONAL_TOKEN,
    Problem,
    TokenAuth,
    idempotency_key,
    idempotency_parameter,
    optional_customer,
    problem,
)

from . import selectors, services
from .models import Campaign, Fulfilment, Reservation

router = Router(tags=["campaigns"])


class VariantOut(Schema):
    id: int
    model_name: str
    capacity_gb: int
    capacity_label: str
    colour: str
    price_krw: int
    reserved: int = Field(description="Reservations holding this variant, counted now.")


class Option(Schema):
    value: str
    label: str


class CanReserve(Schema):
    allowed: bool
    reason: str = Field(description="Why not, in the page's words; empty when allowed.")
    needs_sign_in: bool


class CampaignSummary(Schema):
    slug: str
    name: str
    device_line: str
    reservation_opens_at: dt.datetime
    reservation_closes_at: dt.datetime
    order_opens_at: dt.datetime
    order_closes_at: dt.datetime
    launch_date: dt.date
    reservation_window: str = Field(description="not_open, open or closed")
    per_customer_limit: int


class CampaignOut(CampaignSummary):
    fulfilment: list[Option]
    variants: list[VariantOut]
    can_reserve: CanReserve


class CampaignPage(Schema):
    items: list[CampaignSummary]
    next_cursor: str | None


SUMMARY_FIELDS = [f for f in CampaignSummary.model_fields if f != "reservation_window"]


def _summary(campaign: Campaign, now: dt.datetime) -> dict:
    return {
        **{f: getattr(campaign, f) for f in SUMMARY_FIELDS},
        "reservation_window": campaign.reservation_window(now).value,
    }


def cursor_of(moment: dt.datetime, pk: int) -> str:
    """A list's cursor: the last row's sort time (microseconds) and id, newest first."""
    return f"{int(moment.timestamp() * 1_000_000)}.{pk}"


def cursor_after(cursor: str) -> tuple[dt.datetime, int] | None:
    """The (time, id) a cursor_of cursor names, or None when it is not one."""
    micros, _sep, pk = cursor.partition(".")
    if not (micros.isascii() and micros.isdigit() and pk.isascii() and pk.isdigit()):
        return None
    if len(micros) > 17 or len(pk) > 18:
        return None
    moment = dt.datetime.fromtimestamp(int(micros) / 1_000_000, tz=dt.UTC)
    return moment, int(pk)


@router.get(
    "",
    response={200: CampaignPage, 422: Problem},
    url_name="campaigns",
    summary="Campaigns, newest first (as the campaign list page)",
)
def campaigns(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=40),
    limit: int = Query(20, ge=1, le=100),
):
    rows = Campaign.objects.order_by("-reservation_opens_at", "-pk")
    if cursor is not None:
        after = cursor_after(cursor)
        if after is None:
            return problem(422, "invalid_cursor", _("This cursor is not valid."))
        moment, pk = after
        rows = rows.filter(reservation_opens_at__lte=moment).exclude(
            reservation_opens_at=moment, pk__gte=pk
        )
    page = list(rows[: limit + 1])
    now = timezone.now()
    return {
        "items": [_summary(c, now) for c in page[:limit]],
        "next_cursor": (
            cursor_of(page[limit - 1].reservation_opens_at, page[limit - 1].pk)
            if len(page) > limit
            else None
        ),
    }


@router.get(
    "/{slug:slug}",
    response={200: CampaignOut, 404: Problem},
    url_name="campaign",
    summary="A campaign: its variants with live reserved counts and what you can do now",
    openapi_extra=OPTIONAL_TOKEN,
)
def campaign(request: HttpRequest, slug: str):
    found = get_object_or_404(Campaign, slug=slug)
    now = timezone.now()
    availability = selectors.reserve_availability(
        campaign=found, customer=optional_customer(request), now=now
    )
    return {
        **_summary(found, now),
        "fulfilment": [
            {"value": v, "label": str(label)} for v, label in found.fulfilment_choices()
        ],
        "variants": [
            {
                "id": v.pk,
                "model_name": v.model_name,
                "capacity_gb": v.capacity_gb,
                "capacity_label": v.capacity_label,
                "colour": v.colour,
                "price_krw": v.price_krw,
                "reserved": v.reserved,
            }
            for v in selectors.variants_with_counts(found)
        ],
        "can_reserve": {
            "allowed": availability.allowed,
            "reason": str(availability.reason),
            "needs_sign_in": availability.needs_sign_in,
        },
    }


def response_headers(status: int, **headers: str) -> dict:
    """openapi_extra documenting headers of a response (name with underscores for dashes:
    description), merged into the operation ninja describes."""
    described = {
        name.replace("_", "-"): {"description": text, "schema": {"type": "string"}}
        for name, text in headers.items()
    }
    return {"responses": {status: {"headers": described}}}


LOCATION = "The new resource's path."


class VariantRef(Schema):
    id: int
    label: str = Field(description="Model, capacity and colour, as the pages name it.")


class ReservationBase(Schema):
    number: str = Field(description="The 8-digit reservation number.")
    campaign: str = Field(description="The campaign's slug.")
    campaign_name: str
    variant: VariantRef
    fulfilment: str = Field(description="courier, dawn or festival")
    fulfilment_label: str
    status: str = Field(description="active, ordered, cancelled or expired")
    status_label: str
    created_at: dt.datetime
    cancelled_at: dt.datetime | None


def reservation_base(reservation: Reservation) -> dict:
    """A reservation as every API answer shows it (its campaign and variant loaded)."""
    return {
        "number": reservation.number,
        "campaign": reservation.campaign.slug,
        "campaign_name": reservation.campaign.name,
        "variant": {"id": reservation.variant_id, "label": str(reservation.variant)},
        "fulfilment": reservation.fulfilment,
        "fulfilment_label": reservation.get_fulfilment_display(),
        "status": reservation.status,
        "status_label": reservation.get_status_display(),
        "created_at": reservation.created_at,
        "cancelled_at": reservation.cancelled_at,
    }


def reservation_path(number: str) -> str:
    """The API's published path of one reservation (the schema documents it; the orders
    app's router answers it)."""
    return f"/api/v1/reservations/{number}"


class ReserveIn(Schema):
    variant_id: int = Field(ge=1, le=2**62, description="A variant of this campaign.")
    fulfilment: Fulfilment


IDEMPOTENCY_PARAMETER = idempotency_parameter(
    "A new UUID per reservation the customer means to make; a retry of the same request "
    "sends the same key and gets the same reservation (200)."
)


@router.post(
    "/{slug:slug}/reservations",
    auth=TokenAuth(),
    response={
        200: ReservationBase,
        201: ReservationBase,
        400: Problem,
        401: Problem,
        404: Problem,
        409: Problem,
        422: Problem,
    },
    url_name="reserve",
    summary="Reserve a variant (idempotent by the Idempotency-Key header)",
    description="201 with Location for a new reservation; 200 with the same one for a retry "
    "with the same key. Refusals: `reservations_not_open`, `reservations_closed`, "
    "`limit_reached`, `fulfilment_not_offered` (409); `variant_not_in_campaign`, "
    "`idempotency_key_reused` (422); `idempotency_key_missing`, `idempotency_key_invalid` (400).",
    openapi_extra={
        "parameters": [IDEMPOTENCY_PARAMETER],
        **response_headers(201, Location=LOCATION),
    },
)
def reserve(request: HttpRequest, slug: str, body: ReserveIn, response: HttpResponse):
    key = idempotency_key(
        request, missing=_("Each new reservation needs a new UUID; a retry sends the same one.")
    )
    if isinstance(key, HttpResponse):
        return key
    variant = selectors.intake_catalogue.variants(slug).get(body.variant_id)
    if variant is None:
        get_object_or_404(Campaign, slug=slug)
        return problem(
            422, "variant_not_in_campaign", _("That model is not part of this campaign.")
        )
    now = timezone.now()
    reservation = services.reserve(
        customer_id=request.auth.customer_id,
        variant=variant,
        fulfilment=body.fulfilment,
        idempotency_key=key,
        now=now,
    )
    # The service returns what this key already made, whatever this request asked for.
    if reservation.variant_id != variant.pk or reservation.fulfilment != body.fulfilment:
        return problem(
            422,
            "idempotency_key_reused",
            _("This Idempotency-Key was already used for another reservation request."),
            _("Send a new key for a new reservation."),
        )
    reservation.campaign, reservation.variant = variant.campaign, variant
    if reservation.created_at != now:  # made earlier by the same key: a retry
        return Status(200, reservation_base(reservation))
    response["Location"] = reservation_path(reservation.number)
    return Status(201, reservation_base(reservation))
