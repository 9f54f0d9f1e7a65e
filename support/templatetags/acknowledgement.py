"""{% acknowledgement ticket_number as ack %}: what a ticket's acknowledgement says, read
when the outbox renders it (support.acknowledgement), so it is true as of sending."""

from django import template
from django.utils import timezone

from support.acknowledgement import Acknowledgement, recent_reply_estimate
from support.acknowledgement import acknowledgement as read_acknowledgement
from support.models import Ticket

register = template.Library()


@register.simple_tag
def acknowledgement(ticket_number: str) -> Acknowledgement:
    ticket = Ticket.objects.select_related("order").get(number=ticket_number)
    now = timezone.now()
    return read_acknowledgement(ticket=ticket, now=now, reply=recent_reply_estimate(now=now))
