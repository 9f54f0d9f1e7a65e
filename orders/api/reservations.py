"""My reservations, one reservation, and cancelling it or its order: the pages' selectors
and services (orders.views is the model: the API says and refuses what the pages do).

A number that is not the customer's own, or not a number of that kind at all, is the one
404 problem, and each such miss counts against the guesser (preorder_shop.guessing)."""

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from preorder_shop.api import (
    LOOKUP,
    WITH_BODY,
    Problem,
    TokenAuth,
    problem,
    rendered,
    signed_in,
)
from preorder_shop.conditional import strong_etag
from preorder_shop.guessing import guessing_slowed_endpoint
from preorder_shop.identifiers import RESERVATION_NUMBER
from reservations.api import (
    ReservationBase,
    cursor_after,
    cursor_of,
    reservation_base,
    response_headers,
)
from reservations.models import Reservation
from reservations.selectors import QueueStanding, queue_standing, reservation_timeline

from .. import polling, selectors, services, status_load
from ..exceptions import OrderNotCancellable
from ..models import Order, OrderStatus
from .polls import Fresh, polled
from .schemas import ActionsOut, StandingOut, actions_out, standing_out

router = Router(tags=["reservations"])
AUTH = TokenAuth()


def own_reservation(request: HttpRequest, number: str) -> Reservation:
    """The token's customer's reservation; anything else is the one 404."""
    reservation = RESERVATION_NUMBER.shape.matches(number) and (
        Reservation.objects.select_related("campaign", "variant")
        .filter(number=number, customer_id=request.auth.customer_id)
        .first()
    )
    if not reservation:
        raise Http404
    return reservation


def own_order(request: HttpRequest, number: str) -> Order:
    """The token's customer's order (orders.selectors.own_order); anything else is the 404."""
    order = selectors.own_order(customer_id=request.auth.customer_id, number=number)
    if order is None:
        raise Http404
    return order


def standing_text(reservation: Reservation, standing: QueueStanding | None) -> str | None:
    """The place in line in the pages' words ("#1,234 of 5,678 for ..."), from the pages'
    own template; None when the reservation holds no place."""
    if standing is None:
        return None
    template = get_template("reservations/_standing.html").template
    context = Context({"standing": standing, "reservation": reservation}, autoescape=False)
    return template.render(context).strip()


class ReservationOut(ReservationBase):
    standing: StandingOut | None = Field(description="Null once it holds no place in line.")
    standing_text: str | None = Field(description="The place in line as the pages say it.")


class ReservationPage(Schema):
    items: list[ReservationOut]
    next_cursor: str | None


class HistoryStepOut(Schema):
    label: str
    at: dt.datetime


class ReservationDetail(ReservationOut):
    timeline: list[HistoryStepOut]
    actions: ActionsOut
    poll_interval: int = Field(
        description="Seconds to wait before asking again (also the Poll-Interval header)."
    )


def reservation_out(reservation: Reservation, standing: QueueStanding | None) -> dict:
    return {
        **reservation_base(reservation),
        "standing": standing_out(standing),
        "standing_text": standing_text(reservation, standing),
    }


@router.get(
    "/reservations",
    auth=AUTH,
    response={200: ReservationPage, 401: Problem, 422: Problem},
    url_name="reservations",
    summary="My reservations, newest first (as the My reservations page)",
)
def reservations(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=40),
    limit: int = Query(20, ge=1, le=100),
):
    rows = (
        Reservation.objects.filter(customer_id=request.auth.customer_id)
        .select_related("campaign", "variant")
        .order_by("-created_at", "-pk")
    )
    if cursor is not None:
        after = cursor_after(cursor)
        if after is None:
            return problem(422, "invalid_cursor", _("This cursor is not valid."))
        moment, pk = after
        rows = rows.filter(created_at__lte=moment).exclude(created_at=moment, pk__gte=pk)
    page = list(rows[: limit + 1])
    last = page[limit - 1] if len(page) > limit else None
    return {
        "items": [reservation_out(r, queue_standing(r)) for r in page[:limit]],
        "next_cursor": cursor_of(last.created_at, last.pk) if last else None,
    }


def _detail(
    reservation: Reservation,
    response: HttpResponse | None,
    standing: QueueStanding | None,
    *,
    now: dt.datetime | None = None,
) -> dict:
    actions = selectors.customer_actions(reservation, now=now or timezone.now())
    body = reservation_out(reservation, standing)
    if actions.order is not None:
        order_status = actions.order.status
    else:
        order_status = OrderStatus.DRAFT if actions.resume_draft else None
    standing = body["standing"]
    seconds = polling.poll_after(
        order_status=order_status, place=standing["place"] if standing else None
    )
    if response is not None:
        polling.set_poll_interval(response, seconds)
    return {
        **body,
        "timeline": [{"label": s.label, "at": s.at} for s in reservation_timeline(reservation)],
        "actions": actions_out(actions),
        polling.FIELD: seconds,
    }


@router.get(
    "/reservations/{number}",
    auth=TokenAuth(checked_by_endpoint=True),
    response={200: ReservationDetail, 304: None, **LOOKUP},
    url_name="reservation",
    summary="One reservation: place in line, history and the actions allowed now",
    description=(
        "Send the `ETag` back as `If-None-Match`: an unchanged reservation is a `304` with "
        "no body. Ask again after `Poll-Interval` seconds."
    ),
    openapi_extra=response_headers(
        200, Poll_Interval="Seconds to wait before asking again (as `poll_interval`)."
    ),
)
@guessing_slowed_endpoint
def reservation(request: HttpRequest, number: str):
    # Polled while in line: the token and the reservation in one statement
    # (orders.status_load); the ETag is the hash of the body itself, so a 304 and the body
    # it stands for cannot disagree.
    def read(raw_token: str, now: dt.datetime) -> Fresh:
        token, loaded = status_load.reservation_by_token(raw_token=raw_token, number=number)
        signed_in(request, token)
        if loaded is None:
            raise Http404
        body = _detail(loaded, None, loaded.standing, now=now)
        return Fresh(
            etag=strong_etag([get_language(), timezone.get_current_timezone_name(), body]),
            render=lambda: rendered(request, ReservationDetail, body),
            poll_interval=body[polling.FIELD],
            reservation=loaded,
            since=loaded.read_since,
            changes_at=selectors.changes_at(loaded, loaded.standing, now=now),
        )

    return polled(
        request, kind="reservation", number=number, identifier=RESERVATION_NUMBER, read=read
    )


# Cancelling: GET says what it would do now and gives the token to confirm it with; the
# POST must send that token back, so a plan read before an order form was submitted
# elsewhere cannot confirm cancelling an order unseen (as the web confirmation pages).


class CancelPlanOut(Schema):
    allowed: bool
    refusal: str = Field(description="Why cancelling is not possible now; empty if it is.")
    confirm: str = Field(description="Send back as `confirm` to cancel what this plan says.")
    reservation_number: str
    cancels_order: str | None = Field(description="The submitted order cancelled with it.")
    discards_draft: bool = Field(description="An unfinished order form is discarded with it.")
    gives_up: StandingOut | None = Field(description="The place in line given up.")


class PlanProblem(Problem):
    plan: CancelPlanOut | None = Field(None, description="The plan as it is now.")


class ConfirmIn(Schema):
    confirm: str = Field(min_length=1, max_length=40, description="The plan's `confirm`.")


def _plan_out(plan: selectors.CancelPlan, refusal: str) -> dict:
    return {
        "allowed": not refusal,
        "refusal": refusal,
        "confirm": plan.token,
        "reservation_number": plan.reservation.number,
        "cancels_order": plan.order.number if plan.order else None,
        "discards_draft": plan.draft is not None,
        "gives_up": standing_out(plan.standing),
    }


def _refusal_code(plan: selectors.CancelPlan) -> str:
    # cancel_plan's refusal: OrderNotCancellable with a submitted order, else NotCancellable.
    return "order_not_cancellable" if plan.order is not None else "not_cancellable"


def _confirmed(
    plan: selectors.CancelPlan, refusal: str, code: str, sent: str
) -> HttpResponse | None:
    """A problem when the cancel must not go ahead (refused, or the plan changed since the
    client read it); None when it may."""
    if refusal:
        return problem(
            409, code, _("The request was refused."), refusal, plan=_plan_out(plan, refusal)
        )
    if sent != plan.token:
        return problem(
            409,
            "plan_changed",
            _("What cancelling would do has changed."),
            _("Read the new plan and confirm it again."),
            plan=_plan_out(plan, refusal),
        )
    return None


@router.get(
    "/reservations/{number}/cancel",
    auth=AUTH,
    response={200: CancelPlanOut, **LOOKUP},
    url_name="reservation_cancel_plan",
    summary="What cancelling this reservation would do now, and the token to confirm it",
)
@guessing_slowed_endpoint
def reservation_cancel_plan(request: HttpRequest, number: str):
    plan = selectors.cancel_plan(own_reservation(request, number))
    return _plan_out(plan, plan.refusal)


@router.post(
    "/reservations/{number}/cancel",
    auth=AUTH,
    response={200: ReservationDetail, 409: PlanProblem, **WITH_BODY, **LOOKUP},
    url_name="reservation_cancel",
    summary="Cancel the reservation (and its draft or received order), as the plan said",
    description="409 `plan_changed` (with the new plan) when the plan's `confirm` is stale; "
    "409 `not_cancellable` or `order_not_cancellable` when cancelling is refused.",
)
@guessing_slowed_endpoint
def reservation_cancel(request: HttpRequest, number: str, body: ConfirmIn, response: HttpResponse):
    reservation = own_reservation(request, number)
    plan = selectors.cancel_plan(reservation)
    refused = _confirmed(plan, plan.refusal, _refusal_code(plan), body.confirm)
    if refused:
        return refused
    services.cancel_by_customer(reservation=reservation, customer=request.auth.customer)
    reservation = own_reservation(request, number)
    return _detail(reservation, response, queue_standing(reservation))


class OrderRef(Schema):
    order_number: str
    reservation_number: str
    status: str
    status_label: str


def order_ref(order: Order) -> dict:
    return {
        "order_number": order.number,
        "reservation_number": order.reservation.number,
        "status": order.status,
        "status_label": order.get_status_display(),
    }


def _order_plan(request: HttpRequest, number: str) -> tuple[Order, selectors.CancelPlan, str]:
    order = own_order(request, number)
    plan = selectors.cancel_plan(order.reservation)
    # As the order's confirmation page: only the live submitted order itself is cancelled.
    refusal = plan.refusal
    if not refusal and plan.order != order:
        refusal = str(OrderNotCancellable.default_message)
    return order, plan, refusal


@router.get(
    "/orders/{number}/cancel",
    auth=AUTH,
    response={200: CancelPlanOut, **LOOKUP},
    url_name="order_cancel_plan",
    summary="What cancelling this order would do now, and the token to confirm it",
)
@guessing_slowed_endpoint
def order_cancel_plan(request: HttpRequest, number: str):
    _order, plan, refusal = _order_plan(request, number)
    return _plan_out(plan, refusal)


@router.post(
    "/orders/{number}/cancel",
    auth=AUTH,
    response={200: OrderRef, 409: PlanProblem, **WITH_BODY, **LOOKUP},
    url_name="order_cancel",
    summary="Cancel the order (and its reservation), as the plan said",
    description="409 `plan_changed` (with the new plan) when the plan's `confirm` is stale; "
    "409 `order_not_cancellable` once preparation has started.",
)
@guessing_slowed_endpoint
def order_cancel(request: HttpRequest, number: str, body: ConfirmIn):
    order, plan, refusal = _order_plan(request, number)
    refused = _confirmed(plan, refusal, "order_not_cancellable", body.confirm)
    if refused:
        return refused
    services.cancel_by_customer(reservation=order.reservation, customer=request.auth.customer)
    return order_ref(own_order(request, number))
