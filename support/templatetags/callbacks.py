"""{% callback_picker ticket %}: the ticket page's "Request a call" part
(templates/support/_callback.html): the call booked about the ticket, or the times offered
with free places (in the desk's zone), grouped by day."""

import itertools

from django import template
from django.utils import timezone

from support import callback_selectors, machine, shifts
from support.models import Ticket

register = template.Library()


@register.inclusion_tag("support/_callback.html", takes_context=True)
def callback_picker(context, ticket: Ticket) -> dict:
    now = timezone.now()
    zone = shifts.desk_zone()
    booking = callback_selectors.live_booking(ticket)
    slots = [] if booking else list(callback_selectors.free_slots(now=now))
    days = [
        (day, list(group))
        for day, group in itertools.groupby(
            slots, key=lambda s: s.starts_at.astimezone(zone).date()
        )
    ]
    return {
        "ticket": ticket,
        "booking": booking,
        "days": days,
        "zone": zone.key,
        "closed": machine.past_reopening(ticket, now),
        "csrf_token": context.get("csrf_token"),
    }
