"""A canned reply's placeholders filled for one ticket from its live data (issue 15): the
linked order's or reservation's status as its own page says it right now, read through
support.selectors.live_status (the ticket form's live status: orders.selectors.order_status
for an order, reservations.selectors.queue_standing for a reservation without one), the
same selectors the acknowledgement reads, so a macro, the acknowledgement and the order
page never disagree. (Not through support.acknowledgement itself: it also reads the desk's
calendar and the reservation again per ticket, most of a bulk reply's time, measured.)
Filled in the ticket's language when the reply is written; the message keeps the filled
text (what the customer was told, as of then).

A ticket about nothing (a contact-form ticket is linked to nothing and shows nothing about
any order) fills every placeholder with a plain "not known" text rather than a guess.
"""

import datetime as dt

from django.db import connection
from django.template import Context
from django.template.loader import get_template
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from reservations import lines
from reservations.models import HOLDING_STATUSES
from reservations.selectors import QueueStanding

from . import selectors
from .models import Macro, Ticket
from .models.macros import PLACEHOLDER
from .selectors import Subject
from .shifts import desk_zone

STANDING = "reservations/_standing.html"


# The places in line of many reservations in one statement: the line's own SQL
# (reservations.lines, as orders.status_load reads it beside an order), for a bulk reply.
_STANDINGS = f"""
SELECT r.id, st.place, st.total, st.total_at, st.live_total
  FROM reservations_reservation r
 CROSS JOIN LATERAL ({lines.standing_sql(variant="r.variant_id", position="r.position")}) st
 WHERE r.id = ANY(%(ids)s) AND r.status = ANY(%(holding)s)
"""  # noqa: S608 (constants only)


def standings(tickets: list[Ticket]) -> dict[int, QueueStanding]:
    """queue_standing of every ticket's reservation that holds a place, by reservation id."""
    ids = [t.reservation_id for t in tickets if t.reservation_id is not None]
    with connection.cursor() as cursor:
        cursor.execute(_STANDINGS, {"ids": ids, "holding": list(HOLDING_STATUSES)})
        rows = cursor.fetchall()
    return {
        pk: QueueStanding(*lines.standing_from_row(place, total, total_at, live_total))
        for pk, place, total, total_at, live_total in rows
    }


def live_values(
    ticket: Ticket, *, now: dt.datetime, places: dict[int, QueueStanding] | None = None
) -> dict[str, str]:
    """Every placeholder's value for `ticket` (its reservation and order loaded) at `now`,
    in the active language; `places`: standings() of a batch the ticket is in."""
    status = place = courier = tracking = expected = ""
    live = None
    if ticket.verified and ticket.reservation_id is not None:
        subject = Subject(ticket.reservation, ticket.order)
        if places is not None and ticket.order is None:
            live = selectors.LiveStatus(subject, None, places.get(ticket.reservation_id))
        else:
            live = selectors.live_status(ticket.customer_id, subject)
    if live is not None and (view := live.order_view) is not None:
        status, courier, tracking = view.label, view.facts.courier, view.facts.tracking_number
        place = _standing_text(view.facts.standing, view.facts.reservation)
        day = (view.expected_delivery or {}).get("date")
        expected = formats.date_format(dt.date.fromisoformat(day)) if day else ""
    elif live is not None and live.subject.order is None:
        status = live.subject.reservation.get_status_display()
        place = _standing_text(live.standing, live.subject.reservation)
    return {
        "status": status or _("(no order or reservation linked)"),
        "place": place or _("(not in line)"),
        "courier": courier or _("(not shipped yet)"),
        "tracking_number": tracking or _("(not shipped yet)"),
        "expected_date": expected or _("(not known yet)"),
    }


def _standing_text(standing, reservation) -> str:
    """The place in line in the order page's words (its own partial)."""
    if standing is None:
        return ""
    context = Context({"standing": standing, "reservation": reservation}, autoescape=False)
    return get_template(STANDING).template.render(context).strip()


def fill(text: str, values: dict[str, str]) -> str:
    """`text` with each {placeholder} replaced (the macro was checked on saving)."""
    return PLACEHOLDER.sub(lambda found: values[found.group(1)], text)


def filled_for(
    macro: Macro,
    ticket: Ticket,
    *,
    now: dt.datetime,
    places: dict[int, QueueStanding] | None = None,
) -> str:
    """The macro's text in the ticket's language, filled with the ticket's live values."""
    with translation.override(ticket.language), timezone.override(desk_zone()):
        _title, body, _language = macro.text_in(ticket.language)
        return fill(body, live_values(ticket, now=now, places=places))
