"""Campaigns for the API (issue 13): the campaign page's selectors, as JSON. Public; with a
token, "what you can do now" is the customer's own, exactly as the page says it."""

import datetime as dt

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from preorder_shop.api import OPTIONAL_TOKEN, Problem, optional_customer, problem

from . import selectors
from .models import Campaign

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


def _cursor(campaign: Campaign) -> str:
    return f"{int(campaign.reservation_opens_at.timestamp() * 1_000_000)}.{campaign.pk}"


def _after(cursor: str) -> tuple[dt.datetime, int] | None:
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
        after = _after(cursor)
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
        "next_cursor": _cursor(page[limit - 1]) if len(page) > limit else None,
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
