"""An order's delivery address: read it with whether it may change now (and why not), and
change it while the order is received. orders.services.address, as the order page's
"Change delivery address" uses it: the same refusals, and each field's error with the
order form's message and code."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from pydantic import ConfigDict

from preorder_shop.api import LOOKUP, WITH_BODY, Problem, TokenAuth, error_code, problem
from preorder_shop.guessing import guessing_slowed_endpoint

from .. import services
from ..exceptions import AddressNotChangeable, InvalidAddress
from ..models import ADDRESS_FIELDS, Order
from .order_form import FormProblem
from .reservations import own_order

router = Router(tags=["orders"])
AUTH = TokenAuth()
PATH = "/orders/{number}/delivery-address"


class Refusal(Schema):
    code: str = Field(
        description="`no_delivery_address`, `address_on_order_form`, `order_preparing`, "
        "`order_shipped`, `order_delivered` or `order_closed`."
    )
    message: str


class DeliveryAddressOut(Schema):
    order_number: str
    recipient_name: str
    recipient_phone: str = Field(description="E.164.")
    postcode: str
    address_line1: str
    address_line2: str
    delivery_note: str
    can_change: bool
    refusal: Refusal | None = Field(description="Why it cannot change now; null if it can.")
    changed: bool = Field(description="Whether this request changed it (false on a GET).")


class AddressPatch(Schema):
    """Only the fields sent change; the order form's rules judge them."""

    model_config = ConfigDict(extra="forbid")

    recipient_name: str = Field(None, max_length=1000)
    recipient_phone: str = Field(None, max_length=1000)
    postcode: str = Field(None, max_length=1000)
    address_line1: str = Field(None, max_length=1000)
    address_line2: str = Field(None, max_length=1000)
    delivery_note: str = Field(None, max_length=1000)


def _out(order: Order, *, changed: bool = False) -> dict:
    refusal = services.address_change_refusal(order)
    return {
        "order_number": order.number,
        **{name: getattr(order, name) for name in ADDRESS_FIELDS},
        "can_change": refusal is None,
        "refusal": {"code": error_code(refusal), "message": str(refusal.message)}
        if refusal
        else None,
        "changed": changed,
    }


@router.get(
    PATH,
    auth=AUTH,
    response={200: DeliveryAddressOut, **LOOKUP},
    url_name="order_delivery_address",
    summary="The order's delivery address, and whether it may change now (or why not)",
)
@guessing_slowed_endpoint
def delivery_address(request: HttpRequest, number: str):
    return _out(own_order(request, number))


@router.patch(
    PATH,
    auth=AUTH,
    response={200: DeliveryAddressOut, 409: Problem, 422: FormProblem, **WITH_BODY, **LOOKUP},
    url_name="order_delivery_address_change",
    summary="Change the delivery address while the order is received (only the fields sent)",
    description="The customer gets a text message about the change. Sending the address it "
    "already has changes nothing (200, `changed` false). 409 with the refusal's `code` "
    "(as `refusal.code` of the GET) once it can no longer change; 422 `invalid_fields` with "
    "`field_errors`: per field, the order form's message and its code (e.g. `invalid_phone`, "
    "`postcode`, `required`, `max_length`).",
)
@guessing_slowed_endpoint
def delivery_address_change(request: HttpRequest, number: str, body: AddressPatch):
    order = own_order(request, number)
    sent = body.model_dump(exclude_unset=True)
    values = {name: sent.get(name, getattr(order, name)) for name in ADDRESS_FIELDS}
    try:
        change = services.change_delivery_address(
            order=order, actor=services.Actor.customer(), **values
        )
    except InvalidAddress as exc:
        errors = {
            name: [
                {"code": error.code or "invalid", "message": message}
                for error in found
                for message in error.messages
            ]
            for name, found in exc.errors.items()
        }
        title = _("Some answers are not valid.")
        return problem(422, "invalid_fields", title, field_errors=errors)
    except AddressNotChangeable as exc:
        return problem(409, error_code(exc), _("The request was refused."), str(exc.message))
    order.refresh_from_db(fields=ADDRESS_FIELDS)
    return _out(order, changed=change is not None)
