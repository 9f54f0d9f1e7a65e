"""An order's status for the app: timeline, next step, allowed actions; cheap to poll.

The body is rendered from the order's status facts only (orders.selectors.status_facts ->
status_view, the order page's own), and its ETag hashes exactly those facts: a matching
If-None-Match is a 304 before anything is rendered. An answer that still stands is served
kept, unread and unrendered (orders.api.polls). `Poll-Interval` (and `poll_interval`) say
when to ask again (orders.polling).
"""

import dataclasses
import datetime as dt

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema

from preorder_shop.api import Problem, TokenAuth, rendered, signed_in
from preorder_shop.guessing import guessing_slowed_endpoint
from preorder_shop.identifiers import ORDER_NUMBER

from .. import selectors
from ..models import OrderStatus
from .polls import Fresh, polled
from .schemas import ActionsOut, StandingOut, standing_out

router = Router(tags=["orders"])


class StepOut(Schema):
    status: OrderStatus = Field(description="The status reached; the first step is the form.")
    label: str
    at: dt.datetime


class ExpectedDeliveryOut(Schema):
    expected: bool
    fulfilment: str
    date: dt.date | None = Field(description="Null while the order is on hold.")
    launch_day: bool
    awaiting_festival_draw: bool
    on_hold: bool
    text: str = Field(description="The page's words, labelled as expected.")


class NoticeOut(Schema):
    severity: str = Field(description="info, warning or critical")
    title: str
    text: str
    starts_at: dt.datetime
    ends_at: dt.datetime


class StatusOut(Schema):
    order_number: str
    reservation_number: str
    status: OrderStatus
    status_label: str
    variant: str
    fulfilment: str
    fulfilment_label: str
    courier: str | None
    tracking_number: str | None
    timeline: list[StepOut] = Field(description="Oldest first, as the order page lists it.")
    next_step: str = Field(description="The order page's words for what happens next.")
    expected_delivery: ExpectedDeliveryOut | None = Field(
        description="Once a unit is held for the order; null before."
    )
    standing: StandingOut | None = Field(description="Place in line while the order is live.")
    notices: list[NoticeOut] = Field(
        description="The shop's notices that concern this order now, most severe first."
    )
    actions: ActionsOut = Field(description="What the customer may do now (the page's buttons).")
    poll_interval: int = Field(
        description="Seconds to wait before asking again (also the Poll-Interval header)."
    )


def _body(view: selectors.OrderStatusView) -> dict:
    facts = view.facts
    return {
        "order_number": facts.order_number,
        "reservation_number": facts.reservation.number,
        "status": facts.status,
        "status_label": view.label,
        "variant": facts.reservation.variant,
        "fulfilment": facts.reservation.fulfilment,
        "fulfilment_label": view.fulfilment_label,
        "courier": facts.courier or None,
        "tracking_number": facts.tracking_number or None,
        "timeline": [dataclasses.asdict(step) for step in view.timeline],
        "next_step": view.next_step,
        "expected_delivery": view.expected_delivery,
        "standing": standing_out(facts.standing),
        "notices": view.notices,
        "actions": dataclasses.asdict(facts.actions),
        "poll_interval": facts.poll_interval,
    }


@router.get(
    "/orders/{number}",
    auth=TokenAuth(checked_by_endpoint=True),
    response={200: StatusOut, 304: None, 401: Problem, 404: Problem, 429: Problem},
    url_name="order_status",
    summary="An order's status (send If-None-Match: an unchanged status is a 304)",
    description=(
        "The order page's status: timeline, next step, courier and tracking, expected "
        "delivery, place in line and the actions allowed now. The `ETag` changes when, and "
        "only when, something in the body changes; send it back as `If-None-Match` and an "
        "unchanged status is a `304` with no body. Ask again after `Poll-Interval` seconds. "
        "Another customer's order and a number that does not exist get the same 404."
    ),
)
@guessing_slowed_endpoint
def order_status(request: HttpRequest, number: str):
    def read(raw_token: str, now: dt.datetime) -> Fresh:
        token, order = selectors.own_order_polled(raw_token=raw_token, number=number)
        signed_in(request, token)
        if order is None:
            raise Http404
        facts = selectors.status_facts(order, now=now)
        return Fresh(
            etag=selectors.status_etag(facts, representation="json"),
            render=lambda: rendered(request, StatusOut, _body(selectors.status_view(facts))),
            poll_interval=facts.poll_interval,
            reservation=order.reservation,
            since=order.read_since,
            changes_at=selectors.changes_at(
                order.reservation, facts.standing, now=now, facts_change_at=order.facts_change_at
            ),
        )

    return polled(request, kind="order", number=number, identifier=ORDER_NUMBER, read=read)
