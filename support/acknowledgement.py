"""Every new ticket is acknowledged through the outbox, queued in the transaction that opens
it (support.services.opening), with the truth as of sending:

- the ticket number;
- for a signed-in ticket, the linked order's status, next step and place in line from the
  order page's own selector (orders.selectors.order_status), or for a reservation without
  an order its status and reservations.selectors.queue_standing;
- the expected time of a first reply, a range in working hours from the tickets waiting for
  a first reply and the first replies per staffed hour over the last RATE_HOURS staffed
  hours (support.shifts.staffed_before), or a plain "no recent reply times" when none
  (counted at most every ESTIMATE_SECONDS while messages are sent);
- off shift, when people are back (support.shifts.next_staffed).

Rendered when the outbox sends the message, not when it is queued: the templates
(templates/notifications/support.ack*.txt) call `{% acknowledgement ticket_number as ack %}`
(support/templatetags/acknowledgement.py), so a message that waits behind the provider's
rate limit or a retry still says what the order page says at that moment. The payload holds
only the ticket's number and path (support.notices).

The contact form's ticket (signed out, number unverified) says nothing about any order, and
is acknowledged at most once per number per CONTACT_ACK_WINDOW: openings for one number take
a transaction-scoped advisory lock, then look for an acknowledgement of that number's
tickets within the window, so of concurrent submissions only the first queues one.
"""

import datetime as dt
import math
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orders.selectors import OrderStatusView, order_status
from preorder_shop.models import OutboxMessage
from reservations.models import Reservation
from reservations.selectors import QueueStanding, queue_standing

from . import notices, shifts
from .models import AuthorKind, Ticket, TicketMessage, TicketStatus

ACK = "support.ack"
CONTACT_ACK = "support.ack_contact"
ACK_TEMPLATES = (ACK, CONTACT_ACK)
RATE_HOURS = 3
# The estimate a message renders is at most this old: a burst of acknowledgements counts the
# queue once per interval, not once per message (measured: the count was most of a render).
ESTIMATE_SECONDS = 10
ESTIMATE_CACHE_KEY = "support:reply-estimate"
CONTACT_ACK_WINDOW = dt.timedelta(hours=1)
# Advisory lock class of "acknowledging a contact number" (3 is support's subject lock).
CONTACT_LOCK = 4


def queue_acknowledgement(*, ticket: Ticket) -> list[OutboxMessage]:
    """The new signed-in ticket's acknowledgement (SMS, and e-mail when it has an address),
    in the caller's transaction."""
    return notices.queue_notice(ticket=ticket, template_key=ACK, key="opened")


def queue_contact_acknowledgement(*, ticket: Ticket, now: dt.datetime) -> list[OutboxMessage]:
    """The contact ticket's acknowledgement to the number typed in, unless one of that
    number's tickets opened within CONTACT_ACK_WINDOW before `now` was acknowledged; in the
    caller's transaction, which holds the number's lock until it commits."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [CONTACT_LOCK, ticket.contact_phone]
        )
    recent = Ticket.objects.filter(
        customer=None,
        contact_phone=ticket.contact_phone,
        # No upper bound: a parallel opening may stamp a later `now` and commit first.
        created_at__gt=now - CONTACT_ACK_WINDOW,
    ).exclude(pk=ticket.pk)
    references = [f"ticket:{pk}" for pk in recent.values_list("pk", flat=True)]
    if OutboxMessage.objects.filter(template_key=CONTACT_ACK, reference__in=references).exists():
        return []
    return notices.queue_notice(ticket=ticket, template_key=CONTACT_ACK, key="opened")


@dataclass(frozen=True)
class ReplyEstimate:
    waiting: int  # open tickets without a staff reply yet, the new one included
    first_replies: int  # first staff replies within the measured staffed hours
    staffed_hours: float  # how many staffed hours were measured (RATE_HOURS, or fewer)

    @property
    def rate(self) -> float | None:
        """First replies per staffed hour; None when nothing was measured."""
        if not self.first_replies or not self.staffed_hours:
            return None
        return self.first_replies / self.staffed_hours

    @property
    def hours(self) -> tuple[int, int] | None:
        """(low, high) working hours until a first reply, never one figure: from the time the
        queue takes at the measured rate to half as long again; (0, 1) means within the
        hour. None without a measured rate."""
        if self.rate is None:
            return None
        expected = self.waiting / self.rate
        high = math.ceil(expected * 1.5)
        if high <= 1:
            return (0, 1)
        low = max(1, math.floor(expected))
        return (low, max(low + 1, high))

    def text(self) -> str:
        if self.hours is None:
            return _(
                "We have no recent reply times to go by yet; we answer tickets in the order "
                "they arrive."
            )
        low, high = self.hours
        if high == 1:
            return _("We usually reply within one working hour.")
        return _("We usually reply within %(low)s–%(high)s working hours.") % {  # noqa: RUF001
            "low": low,
            "high": high,
        }

    def queue_text(self) -> str:
        return ngettext(
            "%(count)s ticket is waiting for a first reply, yours included.",
            "%(count)s tickets are waiting for a first reply, yours included.",
            self.waiting,
        ) % {"count": self.waiting}


def reply_estimate(*, now: dt.datetime) -> ReplyEstimate:
    """The open queue and the reply rate of the last RATE_HOURS staffed hours, at `now`."""
    staff = TicketMessage.objects.filter(author_kind=AuthorKind.STAFF)
    waiting = (
        Ticket.objects.filter(status=TicketStatus.OPEN, created_at__lte=now)
        .exclude(Exists(staff.filter(ticket=OuterRef("pk"), created_at__lte=now)))
        .count()
    )
    pieces = shifts.staffed_before(now, hours=RATE_HOURS)
    first_replies = 0
    if pieces:
        within = Q()
        for start, end in pieces:
            within |= Q(created_at__gt=start, created_at__lte=end)
        first_replies = (
            staff.filter(within)
            .exclude(
                Exists(
                    staff.filter(ticket=OuterRef("ticket"), created_at__lt=OuterRef("created_at"))
                )
            )
            .values("ticket")
            .distinct()
            .count()
        )
    measured = sum(((end - start) for start, end in pieces), dt.timedelta())
    return ReplyEstimate(
        waiting=waiting,
        first_replies=first_replies,
        staffed_hours=measured.total_seconds() / 3600,
    )


def recent_reply_estimate(*, now: dt.datetime) -> ReplyEstimate:
    """reply_estimate, counted at most once every ESTIMATE_SECONDS (the cache's copy)."""
    fields = cache.get(ESTIMATE_CACHE_KEY)
    if fields is None:
        fields = reply_estimate(now=now).__dict__
        cache.set(ESTIMATE_CACHE_KEY, fields, ESTIMATE_SECONDS)
    return ReplyEstimate(**fields)


@dataclass(frozen=True)
class Acknowledgement:
    """What a ticket's acknowledgement says, read at `now` (the sending)."""

    ticket: Ticket
    order_view: OrderStatusView | None  # the order page's status, when about an order
    reservation: Reservation | None  # when about a reservation without an order
    standing: QueueStanding | None  # that reservation's place in line
    reply: ReplyEstimate
    off_shift: bool
    back_at: dt.datetime | None  # off shift: when people are back (None: not within weeks)

    def back_text(self) -> str:
        if not self.off_shift:
            return ""
        if self.back_at is None:
            return _("Nobody is at the support desk right now.")
        back = timezone.localtime(self.back_at, shifts.desk_zone())
        return _("Nobody is at the support desk right now. We are back at %(when)s.") % {
            "when": formats.date_format(back, "DATETIME_FORMAT")
        }


def acknowledgement(
    *, ticket: Ticket, now: dt.datetime, reply: ReplyEstimate | None = None
) -> Acknowledgement:
    """What `ticket`'s acknowledgement says at `now`; `reply` the estimate, if counted."""
    order_view = reservation = standing = None
    if ticket.verified and ticket.order_id is not None:
        order_view = order_status(ticket.order)
    elif ticket.verified and ticket.reservation_id is not None:
        reservation = Reservation.objects.select_related("variant").get(pk=ticket.reservation_id)
        standing = queue_standing(reservation)
    off_shift = not shifts.on_shift(now)
    return Acknowledgement(
        ticket=ticket,
        order_view=order_view,
        reservation=reservation,
        standing=standing,
        reply=reply or reply_estimate(now=now),
        off_shift=off_shift,
        back_at=shifts.next_staffed(now) if off_shift else None,
    )
