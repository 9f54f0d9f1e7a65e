import time

from django.core.management.base import BaseCommand, CommandError

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
            raise CommandError("--reservations must be between 0 and 10,000,000.")
        campaign = ensure_demo_campaign()
        variants = campaign.variants.count()
        plans = ensure_demo_plans(campaign)
        lots = ensure_demo_lots(campaign)
        self.stdout.write(
            f"Campaign '{campaign.slug}': {variants} variants, {plans} rate plans, "
            f"{lots} new stock lots (a wave in stock, one arriving in an hour)."
        )
        if reservations:
            started = time.perf_counter()
            created = ensure_synthetic_reservations(campaign, reservations)
            elapsed = time.perf_counter() - started
            self.stdout.write(
                f"Synthetic reservations: {created:,} new in {elapsed:.1f} s "
                f"({reservations - created:,} already there)."
            )
        total = Reservation.objects.filter(campaign=campaign).count()
        self.stdout.write(self.style.SUCCESS(f"Done: {total:,} reservations in the campaign."))
