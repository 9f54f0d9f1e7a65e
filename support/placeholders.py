"""A canned reply's placeholders filled for one ticket from its live data (issue 15): what
the ticket's acknowledgement would say about its order or reservation right now, read by
support.acknowledgement (the order page's selectors: orders.selectors.order_status, and
reservations.selectors.queue_standing for a reservation without an order), so a macro and
the order page never disagree. Filled in the ticket's language when the reply is written;
the message keeps the filled text (what the customer was told, as of then).

A ticket about nothing (or a contact-form ticket, which shows nothing about any order)
fills every placeholder with a plain "not known" text rather than a guess.
"""

import datetime as dt

from django.template import Context
from django.template.loader import get_template
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from .acknowledgement import ReplyEstimate, acknowledgement
from .models import Macro, Ticket
from .models.macros import PLACEHOLDER
from .shifts import desk_zone

# The acknowledgement's reply estimate is not a placeholder: not counted for a macro.
_NOT_COUNTED = ReplyEstimate(waiting=0, first_replies=0, staffed_hours=0)
STANDING = "reservations/_standing.html"


def live_values(ticket: Ticket, *, now: dt.datetime) -> dict[str, str]:
    """Every placeholder's value for `ticket` at `now`, in the active language."""
    ack = acknowledgement(ticket=ticket, now=now, reply=_NOT_COUNTED)
    status = place = courier = tracking = expected = ""
    if (view := ack.order_view) is not None:
        status, courier, tracking = view.label, view.facts.courier, view.facts.tracking_number
        place = _standing_text(view.facts.standing, view.facts.reservation)
        day = (view.expected_delivery or {}).get("date")
        expected = formats.date_format(dt.date.fromisoformat(day)) if day else ""
    elif ack.reservation is not None:
        status = ack.reservation.get_status_display()
        place = _standing_text(ack.standing, ack.reservation)
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


def filled_for(macro: Macro, ticket: Ticket, *, now: dt.datetime) -> str:
    """The macro's text in the ticket's language, filled with the ticket's live values."""
    with translation.override(ticket.language), timezone.override(desk_zone()):
        _title, body, _language = macro.text_in(ticket.language)
        return fill(body, live_values(ticket, now=now))
