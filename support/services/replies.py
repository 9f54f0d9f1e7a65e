"""After a ticket is open: the customer's and staff's replies, staff's status moves, and
closing old solved tickets."""

import datetime as dt
import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from preorder_shop.actors import Actor
from preorder_shop.models import Customer

from .. import machine, notices, sla
from ..exceptions import IllegalTicketMove, NotYourTicket, TicketClosed
from ..models import AuthorKind, Ticket, TicketMessage, TicketStatus
from .cleaning import clean_body

S = TicketStatus
# What a staff reply may leave the ticket in: answered (the default), waiting on the
# customer (we asked for something), or solved (the reply settles it).
REPLY_STATUSES = (S.ANSWERED, S.WAITING_ON_CUSTOMER, S.SOLVED)


def customer_reply(
    *,
    ticket: Ticket,
    customer: Customer,
    body: str,
    idempotency_key: uuid.UUID,
    now: dt.datetime | None = None,
) -> TicketMessage:
    """The customer adds to their ticket; an answered, waiting or recently solved ticket
    goes back to open. A closed one (or one solved over 7 days ago) refuses: TicketClosed."""
    now = now or timezone.now()
    body = clean_body(body)
    with transaction.atomic():
        locked = machine.lock(ticket)
        if locked.customer_id != customer.pk:
            raise NotYourTicket()
        return add_customer_message(locked, body, idempotency_key, now)


def staff_reply(
    *,
    ticket: Ticket,
    staff_user: AbstractBaseUser,
    body: str,
    status: str = S.ANSWERED,
    idempotency_key: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> TicketMessage:
    """Staff answer: the message, the move to `status` (answered, waiting on the customer,
    or solved) and the customer's notification (SMS, and e-mail when the ticket has an
    address), in one transaction."""
    now = now or timezone.now()
    body = clean_body(body)
    if status not in REPLY_STATUSES:
        raise IllegalTicketMove()
    with transaction.atomic():
        locked = machine.lock(ticket)
        if idempotency_key is not None and (
            repeated := locked.messages.filter(idempotency_key=idempotency_key).first()
        ):
            return repeated
        if machine.past_reopening(locked, now):
            raise TicketClosed()
        first_response, before = locked.first_responded_at is None, locked.status
        if first_response:
            locked.first_responded_at = now  # saved with the deadlines (support.sla)
        machine.move_locked(
            locked=locked, to=status, actor=Actor.staff(staff_user), now=now, notify=False
        )
        if first_response and locked.status == before:  # no move stamped it
            sla.stamp(locked)
        message = TicketMessage.objects.create(
            ticket=locked,
            author_kind=AuthorKind.STAFF,
            staff_user=staff_user,
            body=body,
            created_at=now,
            idempotency_key=idempotency_key,
        )
        notices.queue_notice(
            ticket=locked, template_key="support.reply", key=f"message:{message.pk}"
        )
    return message


def staff_move(
    *,
    ticket: Ticket,
    staff_user: AbstractBaseUser,
    to: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> Ticket:
    """A staff move without a reply (answered by phone, waiting, solved): the table of
    support.machine decides which."""
    return machine.move(ticket=ticket, to=to, actor=Actor.staff(staff_user), note=note, now=now)


def close_solved_tickets(*, now: dt.datetime | None = None) -> int:
    """Close the tickets solved more than 7 days ago (set-based); how many were closed."""
    return machine.close_solved(now=now)


def add_customer_message(
    locked: Ticket, body: str, key: uuid.UUID, now: dt.datetime
) -> TicketMessage:
    """The customer's text on their locked ticket (a reply, or a duplicate opening's text);
    back to open unless it is open. The same key again returns the first message."""
    if repeated := locked.messages.filter(idempotency_key=key).first():
        return repeated
    if machine.past_reopening(locked, now):
        raise TicketClosed()
    if locked.status != S.OPEN:
        machine.move_locked(locked=locked, to=S.OPEN, actor=Actor.customer(), now=now)
    return TicketMessage.objects.create(
        ticket=locked,
        author_kind=AuthorKind.CUSTOMER,
        body=body,
        created_at=now,
        idempotency_key=key,
    )
