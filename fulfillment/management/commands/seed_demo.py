import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from fulfillment.demo import ensure_demo_lots
from orders.demo import ensure_demo_plans
from reservations.demo import ensure_demo_campaign, ensure_synthetic_reservations
from reservations.models import Reservation


class Command(BaseCommand):
    help = (
        "Create the demo campaign (3 models, their capacities and colours, rate plans, two "
        "waves of stock) with "
        "windows around "
        "now. Running it again refreshes the windows and duplicates nothing. With "
        "--reservations N, synthetic customers 0..N-1 each hold one reservation."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reservations", type=int, default=0, metavar="N")

    def handle(self, *args, reservations: int, **options):
        if not 0 <= reservations <= 10_000_000:
            raise CommandError(_("--reservations must be between 0 and 10,000,000."))
        campaign = ensure_demo_campaign()
        variants = campaign.variants.count()
        plans = ensure_demo_plans(campaign)
        lots = ensure_demo_lots(campaign)
        self.stdout.write(
            _(
                "Campaign '%(slug)s': %(variants)s variants, %(plans)s rate plans, %(lots)s new "
                "stock lots (a wave in stock, one arriving in an hour)."
            )
            % {"slug": campaign.slug, "variants": variants, "plans": plans, "lots": lots}
        )
        if reservations:
            started = time.perf_counter()
            created = ensure_synthetic_reservations(campaign, reservations)
            elapsed = time.perf_counter() - started
            self.stdout.write(
                _(
                    "Synthetic reservations: %(new)s new in %(seconds)s s "
                    "(%(there)s already there)."
                )
                % {
                    "new": f"{created:,}",
                    "seconds": f"{elapsed:.1f}",
                    "there": f"{reservations - created:,}",
                }
            )
        total = Reservation.objects.filter(campaign=campaign).count()
        self.stdout.write(
            self.style.SUCCESS(
                _("Done: %(total)s reservations in the campaign.") % {"total": f"{total:,}"}
            )
        )
