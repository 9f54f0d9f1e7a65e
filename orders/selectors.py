"""What the customer sees about an order, read from the rows the state machine writes.

The order page, its htmx refresh and the JSON API all read `order_status`; the reservation
page reads `customer_actions`; the confirmation pages read `cancel_plan`. Nothing here says
anything that has not happened.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from reservations.exceptions import NotCancellable
from reservations.models import Fulfilment, Reservation, ReservationStatus, Window
from reservations.selectors import QueueStanding, queue_standing

from .exceptions import OrderNotCancellable
from .models import Order, OrderStatus
from .services import customer_may_cancel

S = OrderStatus


@dataclass(frozen=True)
class TimelineStep:
    status: str
    label: str
    at: dt.datetime


@dataclass(frozen=True)
class OrderStatusView:
    order: Order
    status: str
    label: str
    timeline: list[TimelineStep]
    standing: QueueStanding | None
    next_step: str
    can_cancel: bool

    def as_json(self) -> dict:
        order, reservation = self.order, self.order.reservation
        return {
            "order_number": order.number,
            "reservation_number": reservation.number,
            "status": self.status,
            "status_label": self.label,
            "variant": str(reservation.variant),
            "fulfilment": reservation.fulfilment,
            "courier": order.courier or None,
            "tracking_number": order.tracking_number or None,
            "queue": (
                {"place": self.standing.place, "total": self.standing.total}
                if self.standing
                else None
            ),
            "timeline": [
                {"status": s.status, "label": s.label, "at": timezone.localtime(s.at).isoformat()}
                for s in self.timeline
            ],
            "next_step": self.next_step,
            "can_cancel": self.can_cancel,
        }


def order_status(order: Order) -> OrderStatusView:
    reservation = order.reservation
    steps = [
        TimelineStep(t.to_status, S(t.to_status).label, t.at)
        for t in order.transitions.order_by("at", "pk")
    ]
    started = TimelineStep(S.DRAFT, _("Order form started"), order.created_at)
    return OrderStatusView(
        order=order,
        status=order.status,
        label=order.get_status_display(),
        timeline=[started, *steps],
        standing=queue_standing(reservation) if order.is_live else None,
        next_step=_next_step(order),
        can_cancel=customer_actions(reservation, now=timezone.now()).cancel,
    )


def _when(moment: dt.datetime) -> str:
    # date_format writes a datetime in its own zone (UTC from the database): Seoul time first.
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _next_step(order: Order) -> str:
    reservation = order.reservation
    campaign = reservation.campaign
    match order.status:
        case S.DRAFT:
            return _("Finish and submit your order form before %(when)s.") % {
                "when": _when(campaign.order_closes_at)
            }
        case S.RECEIVED:
            return _(
                "We have your order. Phones go out strictly in queue order; we will tell you "
                "when we start preparing yours. You can still cancel until then."
            )
        case S.PREPARING if reservation.fulfilment == Fulfilment.FESTIVAL:
            return _(
                "Your phone is being prepared for pickup at the launch festival on %(day)s."
            ) % {"day": formats.date_format(campaign.launch_date)}
        case S.PREPARING:
            return _(
                "Your phone is being prepared. When it leaves we send you the courier and "
                "the tracking number."
            )
        case S.SHIPPED:
            return _("On its way with %(courier)s, tracking number %(tracking)s.") % {
                "courier": order.courier,
                "tracking": order.tracking_number,
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
    live = Order.objects.live().filter(reservation=reservation).first()
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
    submitted = reservation.orders.filter(number__isnull=False).order_by("-submitted_at").first()
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
