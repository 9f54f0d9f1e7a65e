from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from support.models import QUEUE_STATUSES, Ticket
from support.services.deadlines import restamp

BATCH = 5000


class Command(BaseCommand):
    help = (
        "Recompute the SLA deadlines of every ticket in the queue (not solved or closed), "
        "in batches of 5,000: after a change of SUPPORT_STAFFED_HOURS or of the holiday "
        "calendar, which live outside the database, or for tickets opened before migration "
        "support 0004. Policies and round-the-clock periods changed in admin restamp by "
        "themselves. Safe to repeat: unchanged tickets are not written."
    )

    def handle(self, *args, **options):
        ids = list(
            Ticket.objects.filter(status__in=QUEUE_STATUSES)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        changed = sum(restamp(ticket_ids=ids[at : at + BATCH]) for at in range(0, len(ids), BATCH))
        self.stdout.write(
            _("%(changed)s of %(total)s tickets in the queue got new deadlines.")
            % {"changed": changed, "total": len(ids)}
        )
