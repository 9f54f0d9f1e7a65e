"""What the customer sees about an order, read from the rows the state machine writes.

The order page, its htmx refresh, the API's order status and the notification texts read
`status_facts` and `status_view`; the reservation page reads `customer_actions`; the
confirmation pages read `cancel_plan`. Nothing here says anything that has not happened.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from preorder_shop.conditional import strong_etag
from preorder_shop.identifiers import ORDER_NUMBER
from preorder_shop.models import ApiToken
from preorder_shop.pages import page_facts
from reservations.exceptions import NotCancellable
from reservations.models import Fulfilment, Reservation, ReservationStatus, Window
from reservations.selectors import QueueStanding, queue_standing

from . import status_load
from .exceptions import OrderNotCancellable
from .models import CLOSED_STATUSES, Order, OrderStatus
from .polling import poll_after
from .services import customer_may_cancel

S = OrderStatus


# The order's status, as every surface shows it (issue 13, "never stale"): `status_facts`
# loads the facts, plain data and nothing else; `status_view` words them without reading the
# database; the order page's partial and the API's JSON are rendered from the view only. The
# ETag of a response hashes exactly the facts it was rendered from, with what else the words
# depend on (language, time zone, representation, the renderer's version), so a response's
# ETag changes when, and only when, what it shows changes.

# Raise when a renderer (status_view, the partial, the API's JSON) changes what it makes
# of the same facts, so no client keeps a body the new code would not write.
RENDERER_VERSION = 1


@dataclass(frozen=True)
class StepFact:
    status: str
    at: dt.datetime


@dataclass(frozen=True)
class ReservationFacts:
    number: str
    variant: str
    fulfilment: str


@dataclass(frozen=True)
class ActionFacts:
    """customer_actions as plain data: the fields of the API's ActionsOut."""

    write_order: bool
    resume_draft: bool
    discard_draft: bool
    cancel: bool
    order_number: str | None
    note: str


@dataclass(frozen=True)
class StatusFacts:
    order_number: str | None
    status: str
    reservation: ReservationFacts
    timeline: tuple[StepFact, ...]  # oldest first; the first is the form's start
    courier: str
    tracking_number: str
    order_closes_at: dt.datetime
    launch_date: dt.date
    standing: QueueStanding | None  # while the order is live
    actions: ActionFacts
    # What upper apps add (preorder_shop.pages facts, slot "order_status"): {name: JSON}.
    extra: tuple[tuple[str, object], ...]

    @property
    def poll_interval(self) -> int:
        place = self.standing.place if self.standing else None
        return poll_after(order_status=self.status, place=place)


def own_order(*, customer_id: int, number: str) -> Order | None:
    """The customer's submitted order by its number, with what its status shows loaded
    (orders.status_load: one statement); None for anyone else's and for numbers that do not
    exist, alike. A string without an order number's shape is not looked up."""
    if not ORDER_NUMBER.shape.matches(number):
        return None
    return status_load.by_number(customer_id=customer_id, number=number)


def own_order_polled(*, raw_token: str, number: str) -> tuple[ApiToken | None, Order | None]:
    """own_order for an API poll that presents a bearer token: the live token it names
    (None: not signed in) and that customer's order, in one round trip (status_load)."""
    return status_load.by_token(raw_token=raw_token, number=number)


def status_facts(order: Order, *, now: dt.datetime | None = None) -> StatusFacts:
    """Everything a status response shows about `order` (as own_order loads it): the
    history, the place in line, the allowed actions and the upper apps' facts. Words and
    labels are left to status_view."""
    if not hasattr(order, "loaded_facts"):  # an order not loaded by own_order
        order = status_load.by_pk(order.pk)
    reservation = order.reservation
    actions = customer_actions(reservation, now=now or timezone.now())
    return StatusFacts(
        order_number=order.number,
        status=order.status,
        reservation=ReservationFacts(
            number=reservation.number,
            variant=str(reservation.variant),
            fulfilment=reservation.fulfilment,
        ),
        timeline=(
            StepFact(S.DRAFT, order.created_at),
            *(StepFact(status, at) for status, at in order.history),
        ),
        courier=order.courier,
        tracking_number=order.tracking_number,
        order_closes_at=reservation.campaign.order_closes_at,
        launch_date=reservation.campaign.launch_date,
        standing=order.standing,
        actions=ActionFacts(
            write_order=actions.write_order,
            resume_draft=actions.resume_draft,
            discard_draft=actions.discard_draft,
            cancel=actions.cancel,
            order_number=actions.order.number if actions.order else None,
            note=str(actions.note),
        ),
        extra=tuple(
            sorted(page_facts(status_load.SLOT, order=order, loaded=order.loaded_facts).items())
        ),
    )


def changes_at(
    reservation: Reservation,
    standing: QueueStanding | None,
    *,
    now: dt.datetime,
    facts_change_at: dt.datetime | None = None,
) -> dt.datetime | None:
    """The next moment an answer about `reservation` (its status or its order's) may change
    with no write: a campaign time passes, or a fact's own time (`facts_change_at`); None:
    only a write changes it (preorder_shop.kept_answers). `now` itself while the line has no
    count yet: its total is counted live, and someone joining behind marks nothing."""
    if standing is not None and standing.total_at is None:
        return now
    moments = (reservation.campaign.next_moment(now), facts_change_at)
    return min((moment for moment in moments if moment is not None), default=None)


def status_etag(facts: StatusFacts, *, representation: str) -> str:
    """The validator of `facts` rendered as `representation` ("json" or "html") in the active
    language and time zone."""
    return strong_etag(
        [
            RENDERER_VERSION,
            representation,
            get_language(),
            timezone.get_current_timezone_name(),
            facts,
        ]
    )


@dataclass(frozen=True)
class TimelineStep:
    status: str
    label: str
    at: dt.datetime  # in the current time zone


@dataclass(frozen=True)
class OrderStatusView:
    """The facts in the customer's words (active language and time zone)."""

    facts: StatusFacts
    label: str
    timeline: list[TimelineStep]
    next_step: str

    @property
    def fulfilment_label(self) -> str:
        return str(Fulfilment(self.facts.reservation.fulfilment).label)

    @property
    def can_cancel(self) -> bool:
        return self.facts.actions.cancel

    @property
    def expected_delivery(self) -> dict | None:
        """Fulfilment's fact (fulfillment.delivery_panels): null while no unit is held."""
        return dict(self.facts.extra).get("expected_delivery")

    @property
    def notices(self) -> list[dict]:
        """Support's fact (support.panels): the notices that concern the order now."""
        return dict(self.facts.extra).get("notices", [])


def status_view(facts: StatusFacts) -> OrderStatusView:
    """Words for the facts; reads nothing but them."""
    steps = [
        TimelineStep(
            step.status,
            _("Order form started") if i == 0 else str(S(step.status).label),
            timezone.localtime(step.at),
        )
        for i, step in enumerate(facts.timeline)
    ]
    return OrderStatusView(
        facts=facts, label=str(S(facts.status).label), timeline=steps, next_step=_next_step(facts)
    )


def order_status(order: Order) -> OrderStatusView:
    return status_view(status_facts(order))


def _when(moment: dt.datetime) -> str:
    # date_format writes a datetime in its own zone (UTC from the database): Seoul time first.
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _next_step(facts: StatusFacts) -> str:
    match facts.status:
        case S.DRAFT:
            return _("Finish and submit your order form before %(when)s.") % {
                "when": _when(facts.order_closes_at)
            }
        case S.RECEIVED:
            return _(
                "We have your order. Phones go out strictly in queue order; we will tell you "
                "when we start preparing yours. You can still cancel until then."
            )
        case S.PREPARING if facts.reservation.fulfilment == Fulfilment.FESTIVAL:
            return _(
                "Your phone is being prepared for pickup at the launch festival on %(day)s."
            ) % {"day": formats.date_format(facts.launch_date)}
        case S.PREPARING:
            return _(
                "Your phone is being prepared. When it leaves we send you the courier and "
                "the tracking number."
            )
        case S.SHIPPED:
            return _("On its way with %(courier)s, tracking number %(tracking)s.") % {
                "courier": facts.courier,
                "tracking": facts.tracking_number,
            }
        case S.DELIVERED:
            return _("Delivered. Enjoy your new phone.")
        case S.CANCELLED:
            return _("This order is cancelled, and so is its reservation.")
        case S.DISCARDED:
            return _("You discarded this order form.")
        case _:
            return _("The order form window closed before this form was submitted.")


@dataclass(frozen=True)
class CustomerActions:
    """The buttons on a reservation page: derived from the states, refused otherwise."""

    write_order: bool
    resume_draft: bool
    discard_draft: bool
    order: Order | None  # the submitted order (live or cancelled) to view, if any
    cancel: bool
    note: str


def customer_actions(reservation: Reservation, *, now: dt.datetime) -> CustomerActions:
    """What the customer may do now: the one answer the reservation page, the order page and
    the API show, from the same rules the services apply (refused otherwise)."""
    # One query for both the live order and the submitted one (a status poll asks this).
    orders = list(reservation.orders.all())
    live = next((o for o in orders if o.status not in CLOSED_STATUSES), None)
    submitted = max(
        (o for o in orders if o.number is not None), key=lambda o: o.submitted_at, default=None
    )
    campaign = reservation.campaign
    window = campaign.order_window(now)
    active = reservation.status == ReservationStatus.ACTIVE
    note = ""
    if active and window == Window.NOT_OPEN:
        note = _("You can write your order form from %(when)s.") % {
            "when": _when(campaign.order_opens_at)
        }
    elif active and window == Window.CLOSED:
        note = _("The order form window closed on %(when)s.") % {
            "when": _when(campaign.order_closes_at)
        }
    is_draft = live is not None and live.status == S.DRAFT
    return CustomerActions(
        write_order=active and window == Window.OPEN and (live is None or is_draft),
        resume_draft=is_draft,
        discard_draft=is_draft,
        order=submitted,
        cancel=customer_may_cancel(reservation, live),
        note=note,
    )


@dataclass(frozen=True)
class CancelPlan:
    """What the customer's Cancel of a reservation would do now: the confirmation page says
    it, and the confirming POST must name the same `token`, so a page opened before the
    order form was submitted in another tab cannot confirm cancelling an order unseen."""

    reservation: Reservation
    standing: QueueStanding | None
    draft: Order | None  # discarded with the reservation
    order: Order | None  # a submitted order cancelled with it
    refusal: str  # why it is not possible now; empty when it is

    @property
    def token(self) -> str:
        if self.order is not None:
            return f"order-{self.order.number}"
        return "draft" if self.draft is not None else "reservation"


def cancel_plan(reservation: Reservation) -> CancelPlan:
    live = Order.objects.live().filter(reservation=reservation).first()
    refusal = ""
    if not customer_may_cancel(reservation, live):
        refusal = (
            OrderNotCancellable.default_message
            if live is not None and live.status != S.DRAFT
            else NotCancellable.default_message
        )
    is_draft = live is not None and live.status == S.DRAFT
    return CancelPlan(
        reservation=reservation,
        standing=queue_standing(reservation),
        draft=live if is_draft else None,
        order=live if live is not None and not is_draft else None,
        refusal=str(refusal),
    )
