"""Internal notes (issue 15): staff write on a ticket what only staff read. A note moves no
status and tells the customer nothing; the customer's pages, the API and every message read
the conversation through support.selectors.conversation, which leaves notes out."""

import datetime as dt
import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from .. import machine
from ..models import AuthorKind, Ticket, TicketMessage
from .cleaning import clean_body


def add_internal_note(
    *,
    ticket: Ticket,
    staff_user: AbstractBaseUser,
    body: str,
    idempotency_key: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> TicketMessage:
    """The note on the locked ticket; the same key again returns the first note."""
    now = now or timezone.now()
    body = clean_body(body)
    with transaction.atomic():
        locked = machine.lock(ticket)
        if idempotency_key is not None and (
            repeated := locked.messages.filter(idempotency_key=idempotency_key).first()
        ):
            return repeated
        return TicketMessage.objects.create(
            ticket=locked,
            author_kind=AuthorKind.STAFF,
            staff_user=staff_user,
            body=body,
            internal=True,
            created_at=now,
            idempotency_key=idempotency_key,
        )
