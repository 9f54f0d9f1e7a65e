"""A reservation's order form: read the draft, open (or resume) it, save fields, submit,
discard. The order-form services and OrderForm, as the order-form page uses them: the same
messages, and each field error's code is its ValidationError's code."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from preorder_shop.api import Problem, TokenAuth, problem
from preorder_shop.guessing import guessing_slowed_endpoint
from reservations.api import LOCATION, response_headers
from reservations.models import Fulfilment, Reservation

from .. import selectors, services
from ..exceptions import FestivalDrawPending, IncompleteOrder
from ..forms import OrderForm
from ..models import JoinType, Order, OrderStatus
from .reservations import OrderRef, order_ref, own_reservation

router = Router(tags=["order form"])
AUTH = TokenAuth()
FORM = "/reservations/{number}/order-form"


def order_path(number: str) -> str:
    """The API's published path of an order's status (orders.api.status answers it)."""
    return f"/api/v1/orders/{number}"


class Option(Schema):
    value: str
    label: str


class DraftValues(Schema):
    plan: int | None = Field(description="A rate plan id from `choices.plan`.")
    join_type: str
    port_in_carrier: str
    port_in_number: str = Field(description="E.164 once saved.")
    recipient_name: str | None = Field(None, description="Null: this form asks no address.")
    recipient_phone: str | None = None
    postcode: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    delivery_note: str | None = None


class OrderFormOut(Schema):
    reservation_number: str
    values: DraftValues
    asks: list[str] = Field(description="The fields this form asks (no address for pickup).")
    choices: dict[str, list[Option]]
    missing: dict[str, list[str]] = Field(description="What a submit still needs, per field.")
    deadline: dt.datetime = Field(description="The order-form window closes then.")
    saved_at: dt.datetime
    festival_draw_pending: str = Field(
        description="Why this form cannot be submitted before the festival draw; empty if not."
    )


class FieldError(Schema):
    code: str
    message: str


class FormProblem(Problem):
    field_errors: dict[str, list[FieldError]] | None = None
    order_number: str | None = Field(None, description="With `order_submitted`.")


class DraftPatch(Schema):
    """Only the fields sent are saved; the form judges them (its own limits and messages)."""

    model_config = ConfigDict(extra="forbid")

    plan: int | None = Field(None, ge=1, le=2**62)
    join_type: str = Field(None, max_length=1000)
    port_in_carrier: str = Field(None, max_length=1000)
    port_in_number: str = Field(None, max_length=1000)
    recipient_name: str = Field(None, max_length=1000)
    recipient_phone: str = Field(None, max_length=1000)
    postcode: str = Field(None, max_length=1000)
    address_line1: str = Field(None, max_length=1000)
    address_line2: str = Field(None, max_length=1000)
    delivery_note: str = Field(None, max_length=1000)


def _live(reservation: Reservation) -> Order | None:
    order = Order.objects.live().filter(reservation=reservation).first()
    if order is not None:
        order.reservation = reservation
    return order


def _no_draft(detail: str = "") -> HttpResponse:
    return problem(404, "no_draft", _("This reservation has no order form."), detail)


def _submitted(order: Order) -> HttpResponse:
    return problem(
        409,
        "order_submitted",
        _("This order form is already submitted."),
        _("Your order number is %(number)s.") % {"number": order.number},
        order_number=order.number,
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _values(form: OrderForm) -> dict:
    return {name: form[name].value() for name in form.fields}


def _saved_data(reservation: Reservation, order: Order) -> dict[str, str]:
    """The saved answers as the form's data (what the page would post back)."""
    saved = _values(OrderForm(instance=order, reservation=reservation))
    return {name: _text(value) for name, value in saved.items()}


def _form_out(reservation: Reservation, order: Order) -> dict:
    form = OrderForm(instance=order, reservation=reservation)
    waits_for_draw = (
        reservation.fulfilment == Fulfilment.FESTIVAL
        and not services.festival_draw_published(reservation.campaign_id)
    )
    return {
        "reservation_number": reservation.number,
        "values": _values(form),
        "asks": list(form.fields),
        "choices": {
            name: [{"value": str(v), "label": str(label)} for v, label in field.choices if str(v)]
            for name, field in form.fields.items()
            if hasattr(field, "choices")
        },
        "missing": services.missing_fields(order),
        "deadline": reservation.campaign.order_closes_at,
        "saved_at": order.updated_at,
        "festival_draw_pending": str(FestivalDrawPending.default_message)
        if waits_for_draw
        else "",
    }


def _field_errors(form: OrderForm, names) -> dict[str, list[dict]]:
    found: dict[str, list[ValidationError]] = form.errors.as_data()
    return {
        name: [
            {"code": error.code or "invalid", "message": message}
            for error in found[name]
            for message in error.messages
        ]
        for name in names
        if name in found
    }


def _invalid(errors: dict[str, list[dict]]) -> HttpResponse:
    return problem(422, "invalid_fields", _("Some answers are not valid."), field_errors=errors)


def _judged(reservation: Reservation, order: Order, sent: dict) -> tuple[OrderForm, dict]:
    """The form bound to the saved answers with the sent ones over them, and the errors of
    the sent fields (all-or-nothing: the caller saves only when there are none)."""
    data = {**_saved_data(reservation, order), **{name: _text(v) for name, v in sent.items()}}
    form = OrderForm(data, instance=order, reservation=reservation)
    form.is_valid()
    errors = {
        name: [{"code": "not_asked", "message": _("This order form does not ask for this.")}]
        for name in sent
        if name not in form.fields
    }
    errors |= _field_errors(form, sent)
    # Port-in answers sent while another way of joining is chosen: the form does not judge
    # them (nor keep an invalid one), so they are judged as if porting in.
    unjudged = [
        n for n in sent if n in form.fields and n not in form.errors and n not in form.cleaned_data
    ]
    if unjudged:
        porting = OrderForm(
            {**data, "join_type": JoinType.PORT_IN}, instance=order, reservation=reservation
        )
        porting.is_valid()
        errors |= _field_errors(porting, unjudged)
    return form, errors


RESPONSES = {401: Problem, 404: FormProblem, 409: FormProblem, 429: Problem}


@router.get(
    FORM,
    auth=AUTH,
    response={200: OrderFormOut, **RESPONSES},
    url_name="order_form",
    summary="The order form's draft: its answers, what is still missing, the deadline",
    description="404 `no_draft` when none is open; 409 `order_submitted` (with `order_number`) "
    "once submitted; 409 `order_window_closed` / `order_window_not_open` outside the window.",
)
@guessing_slowed_endpoint
def order_form(request: HttpRequest, number: str):
    reservation = own_reservation(request, number)
    order = _live(reservation)
    if order is None:
        return _no_draft()
    if order.status != OrderStatus.DRAFT:
        return _submitted(order)
    # As the page: a leftover draft opens only while the order-form window is open.
    services.open_draft(reservation=reservation, customer=request.auth.customer)
    return _form_out(reservation, order)


@router.post(
    FORM,
    auth=AUTH,
    response={200: OrderFormOut, 201: OrderFormOut, **RESPONSES},
    url_name="order_form_open",
    openapi_extra=response_headers(201, Location=LOCATION),
    summary="Start the order form, or resume the one draft (201 when started)",
    description="409 `reservation_not_active`, `order_window_closed`, `order_window_not_open`, "
    "or `order_submitted` (with `order_number`).",
)
@guessing_slowed_endpoint
def order_form_open(request: HttpRequest, number: str, response: HttpResponse):
    reservation = own_reservation(request, number)
    now = timezone.now()
    order = services.open_draft(reservation=reservation, customer=request.auth.customer, now=now)
    if order.status != OrderStatus.DRAFT:
        return _submitted(order)
    if order.created_at != now:  # made by an earlier request (or a concurrent twin)
        return Status(200, _form_out(reservation, order))
    response["Location"] = f"/api/v1{FORM.format(number=reservation.number)}"
    return Status(201, _form_out(reservation, order))


@router.patch(
    FORM,
    auth=AUTH,
    response={200: OrderFormOut, 400: Problem, 422: FormProblem, **RESPONSES},
    url_name="order_form_save",
    summary="Save some answers (only the fields sent; none saved if any is invalid)",
    description="422 `invalid_fields` with `field_errors`: per field, the form's message and "
    "its code (e.g. `invalid_phone`, `postcode`, `invalid_choice`, `max_length`, `not_asked`).",
)
@guessing_slowed_endpoint
def order_form_save(request: HttpRequest, number: str, body: DraftPatch):
    reservation = own_reservation(request, number)
    order = _live(reservation)
    if order is None:
        return _no_draft()
    if order.status != OrderStatus.DRAFT:
        return _submitted(order)
    sent = body.model_dump(exclude_unset=True)
    form, errors = _judged(reservation, order, sent)
    if errors:
        return _invalid(errors)
    saved = services.save_draft(
        order=order,
        customer=request.auth.customer,
        values={name: form.cleaned_data[name] for name in sent},
    )
    saved.reservation = reservation
    return _form_out(reservation, saved)


@router.post(
    f"{FORM}/submit",
    auth=AUTH,
    response={200: OrderRef, 201: OrderRef, 422: FormProblem, **RESPONSES},
    url_name="order_form_submit",
    openapi_extra={
        "responses": {
            **response_headers(201, Location="The order's status path.")["responses"],
            **response_headers(200, Location="The order's status path.")["responses"],
        }
    },
    summary="Submit the saved answers: the order (201 with Location; 200 if already submitted)",
    description="422 `incomplete_order` or `invalid_fields` with `field_errors`; 409 "
    "`festival_draw_pending`, `order_window_closed`, `illegal_transition`.",
)
@guessing_slowed_endpoint
def order_form_submit(request: HttpRequest, number: str, response: HttpResponse):
    reservation = own_reservation(request, number)
    order = _live(reservation)
    if order is None:
        return _no_draft(_("There is no order form to submit. Start one first."))
    if order.status != OrderStatus.DRAFT:  # a double submit: the order already exists
        response["Location"] = order_path(order.number)
        return Status(200, order_ref(order))
    form = OrderForm(_saved_data(reservation, order), instance=order, reservation=reservation)
    if not form.is_valid():
        return _invalid(_field_errors(form, form.errors))
    now = timezone.now()
    try:
        submitted = services.submit_order(
            order=order, customer=request.auth.customer, values=form.submitted_values(), now=now
        )
    except IncompleteOrder as exc:
        errors = {
            name: [{"code": "required", "message": str(m)} for m in messages]
            for name, messages in exc.errors.items()
        }
        return problem(
            422,
            "incomplete_order",
            _("The request was refused."),
            str(exc.message),
            field_errors=errors,
        )
    submitted.reservation = reservation
    response["Location"] = order_path(submitted.number)
    return Status(201 if submitted.submitted_at == now else 200, order_ref(submitted))


@router.delete(
    FORM,
    auth=AUTH,
    response={204: None, **RESPONSES},
    url_name="order_form_discard",
    summary="Discard the draft; the reservation stays active",
)
@guessing_slowed_endpoint
def order_form_discard(request: HttpRequest, number: str):
    reservation = own_reservation(request, number)
    order = _live(reservation)
    if not selectors.customer_actions(reservation, now=timezone.now()).discard_draft:
        return _no_draft()
    services.discard_draft(order=order, customer=request.auth.customer)
    return Status(204, None)
