"""Changing a received order's delivery address, the one door for the customer (order page,
API) and for staff (admin, from a ticket): locked, judged by the order form's own field
rules, recorded in the order's address history and told to the customer through the outbox,
so a change they did not make is noticed.

Allowed only for an order that a courier brings (courier or dawn delivery, not festival
pickup) while it is `received`: a draft is edited on its order form, and once preparation
starts the parcel's label is being made. The same address again changes nothing (None).
The status is read under the row lock, so a concurrent move to preparing either waits for
the change or wins and refuses it; the database refuses an address change after
`received` too (orders migration 0010), whoever writes.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from preorder_shop.actors import Actor, ActorKind
from preorder_shop.models import OutboxChannel
from preorder_shop.outbox import queue_message
from reservations.models import Fulfilment

from ..exceptions import (
    ActorNotAllowed,
    AddressBeingPrepared,
    AddressDelivered,
    AddressNotChangeable,
    AddressOnItsWay,
    AddressOnOrderForm,
    AddressOrderClosed,
    InvalidAddress,
    NoDeliveryAddress,
    ReasonRequired,
)
from ..forms import DeliveryAddressForm
from ..models import ADDRESS_FIELDS, Order, OrderAddressChange, OrderStatus
from .notices import order_page_path
from .order_form import missing_fields

S = OrderStatus
DELIVERED_FULFILMENTS = (Fulfilment.COURIER, Fulfilment.DAWN)
REFUSALS: dict[str, type[AddressNotChangeable]] = {
    S.DRAFT: AddressOnOrderForm,
    S.PREPARING: AddressBeingPrepared,
    S.SHIPPED: AddressOnItsWay,
    S.DELIVERED: AddressDelivered,
    S.CANCELLED: AddressOrderClosed,
    S.DISCARDED: AddressOrderClosed,
    S.EXPIRED: AddressOrderClosed,
}


def address_change_refusal(order: Order) -> AddressNotChangeable | None:
    """Why the delivery address of `order` cannot be changed now (the error the change would
    raise, whose message the page shows), or None while it can."""
    if order.reservation.fulfilment not in DELIVERED_FULFILMENTS:
        return NoDeliveryAddress()
    refusal = REFUSALS.get(order.status)
    return refusal() if refusal else None


def change_delivery_address(
    *,
    order: Order,
    actor: Actor,
    recipient_name: str,
    recipient_phone: str,
    postcode: str,
    address_line1: str,
    address_line2: str,
    delivery_note: str,
    reason: str = "",
    now: dt.datetime | None = None,
) -> OrderAddressChange | None:
    """Replace the delivery details of `order` (found by the door as the actor's own) with
    these, judged as the order form judges them; None, changing nothing, when they are the
    details it already has (a repeated request). Staff give a reason, kept in the history.

    Raises AddressNotChangeable (a subclass per reason), InvalidAddress (per field, the order
    form's messages), ActorNotAllowed or ReasonRequired; nothing is changed then.
    """
    if actor.kind not in (ActorKind.CUSTOMER, ActorKind.STAFF):
        raise ActorNotAllowed()
    reason = reason.strip()
    if actor.kind == ActorKind.STAFF and not reason:
        raise ReasonRequired()
    sent = {
        "recipient_name": recipient_name,
        "recipient_phone": recipient_phone,
        "postcode": postcode,
        "address_line1": address_line1,
        "address_line2": address_line2,
        "delivery_note": delivery_note,
    }
    with transaction.atomic():
        locked = (
            Order.objects.select_for_update(of=("self",))
            .select_related("reservation__customer", "reservation__variant")
            .get(pk=order.pk)
        )
        now = now or timezone.now()  # once the row is locked: after whatever it waited for
        refusal = address_change_refusal(locked)
        if refusal is not None:
            raise refusal
        before = {name: getattr(locked, name) for name in ADDRESS_FIELDS}
        values = _judged(locked, sent)
        changed = [name for name in ADDRESS_FIELDS if values[name] != before[name]]
        if not changed:
            return None
        locked.updated_at = max(now, locked.updated_at)
        locked.save(update_fields=[*changed, "updated_at"])
        change = OrderAddressChange.objects.create(
            order=locked,
            at=now,
            changed=changed,
            before=before,
            after=values,
            reason=reason,
            **OrderAddressChange.fields_for(actor),
        )
        _notify(locked, change)
    return change


def _judged(order: Order, sent: dict[str, str]) -> dict[str, str]:
    """The sent details as the order form cleans them (an E.164 phone, a trimmed postcode),
    set on `order` (not saved); or InvalidAddress with every field's errors at once: the
    form's, and what a delivery still lacks in the submit's words (missing_fields)."""
    form = DeliveryAddressForm(data=sent)
    form.is_valid()
    errors = form.errors.as_data()
    for name in ADDRESS_FIELDS:
        if name in form.cleaned_data:
            setattr(order, name, form.cleaned_data[name])
    for name, messages in missing_fields(order).items():
        if name not in errors:
            errors[name] = [ValidationError(message, code="required") for message in messages]
    if errors:
        raise InvalidAddress(errors)
    return {name: form.cleaned_data[name] for name in ADDRESS_FIELDS}


def _notify(order: Order, change: OrderAddressChange) -> None:
    """Tell the customer on their own number, with the new address masked (no full address
    in a text message): a change someone else made through their session is noticed."""
    customer = order.reservation.customer
    queue_message(
        channel=OutboxChannel.SMS,
        recipient=customer.phone,
        template_key="order.address_changed",
        payload={
            "order_number": order.number,
            "customer_name": customer.name,
            "variant": str(order.reservation.variant),
            "masked_address": order.masked_address,
            "by_staff": change.actor_kind == ActorKind.STAFF,
            "status_url": order_page_path(order),
        },
        language=customer.language,
        idempotency_key=f"order:{order.pk}:address:{change.pk}",
        reference=f"order:{order.pk}",
    )
