"""What fulfilment shows on lower apps' pages (preorder_shop.pages), registered in
FulfillmentConfig.ready(): a unit reserved for the customer, the festival draw, and stock
arrivals per model, and on each option of the phone chooser the next lot's expected arrival.
Each reads fulfilment's own rows; the pages never import this app."""

from django.db.models import Min, Q, Sum
from django.utils import timezone

from preorder_shop.pages import add_panel

from .models import Allocation, FestivalDraw, StockLot


def unit_reserved(*, reservation, **_page) -> dict | None:
    """Shown only while an allocation row holds a unit for the reservation."""
    held = Allocation.objects.filter(
        reservation=reservation, variant_id=reservation.variant_id, released_at__isnull=True
    ).exists()
    return {} if held else None


def festival_draw(*, campaign, **_page) -> dict | None:
    """The commitment before the draw, the seed and counts after (lottery.py)."""
    if not campaign.offers_festival_pickup:
        return None
    draw = FestivalDraw.objects.filter(campaign=campaign).first()
    if draw is None:
        return None
    entrants = draw.entries.count()
    # The rule draws min(capacity, entrants); verify_festival_draw checks the recorded rows.
    return {
        "draw": draw,
        "entrants": entrants,
        "winners": min(entrants, campaign.festival_capacity),
    }


def stock_arrivals(*, campaign, **_page) -> dict | None:
    """Per model: units arrived so far and the next wave expected, from the stock lots."""
    now = timezone.now()
    rows = (
        StockLot.objects.filter(variant__campaign=campaign)
        .values("variant")
        .annotate(
            arrived=Sum("quantity", filter=Q(arrives_at__lte=now), default=0),
            next_at=Min("arrives_at", filter=Q(arrives_at__gt=now)),
        )
    )
    by_variant = {row["variant"]: row for row in rows}
    if not by_variant:
        return None
    lines = [
        {**by_variant[v.pk], "variant": v}
        for v in campaign.variants.order_by("model_name", "capacity_gb", "colour")
        if v.pk in by_variant
    ]
    next_at = min((line["next_at"] for line in lines if line["next_at"]), default=None)
    return {
        "stock_lines": lines,
        "arrived_total": sum(line["arrived"] for line in lines),
        "next_at": next_at,
    }


def expected_arrival(*, variants, **_page) -> dict | None:
    """The earliest announced lot still to arrive for any of the option's variants.

    A lot's `arrives_at` is the supplier's announced date (staff enter it from the shipment
    notice, import_stock reads it from the supplier's file), so a lot whose date is still
    ahead is stock expected then; there is no separate "expected" field, and the page labels
    the date as expected. One indexed MIN per option, only on the chooser's full page (not on
    intake, not on the 15-second count poll)."""
    expected_at = (
        StockLot.objects.filter(variant_id__in=variants, arrives_at__gt=timezone.now())
        .order_by("arrives_at")
        .values_list("arrives_at", flat=True)
        .first()
    )
    return {"expected_at": expected_at} if expected_at else None


def register() -> None:
    add_panel(
        "reservation_page", template="fulfillment/panels/unit_reserved.html", context=unit_reserved
    )
    add_panel(
        "campaign_page", template="fulfillment/panels/festival_draw.html", context=festival_draw
    )
    add_panel(
        "campaign_page_end",
        template="fulfillment/panels/stock_arrivals.html",
        context=stock_arrivals,
    )
    add_panel(
        "variant_option",
        template="fulfillment/panels/expected_arrival.html",
        context=expected_arrival,
    )
