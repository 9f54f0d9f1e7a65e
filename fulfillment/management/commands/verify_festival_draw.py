from django.core.management.base import BaseCommand, CommandError

from fulfillment.services import lottery
from reservations.models import Campaign


class Command(BaseCommand):
    help = (
        "Recompute a revealed festival draw: the commitment from the published seed, the "
        "winners from the recorded entrant list. Prints OK or every difference; exits 1 on "
        "any difference. The rule is in fulfillment/services/lottery.py's docstring."
    )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", required=True, metavar="SLUG")

    def handle(self, *args, campaign: str, **options):
        try:
            target = Campaign.objects.get(slug=campaign)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"No campaign with slug '{campaign}'.") from exc
        try:
            result = lottery.verify_draw(campaign=target)
        except lottery.LotteryError as exc:
            raise CommandError(exc.message) from exc
        draw = result.draw
        self.stdout.write(f"Seed:      {draw.seed}")
        self.stdout.write(f"SHA-256:   {draw.seed_hash}")
        self.stdout.write(f"Entrants:  {result.entrants:,}")
        self.stdout.write(f"Capacity:  {target.festival_capacity:,}")
        if result.ok:
            self.stdout.write(self.style.SUCCESS(f"OK: {result.winners:,} winners recomputed."))
            return
        for difference in result.differences:
            self.stdout.write(self.style.ERROR(f"DIFFERS: {difference}"))
        raise CommandError(f"{len(result.differences)} difference(s) found.")
