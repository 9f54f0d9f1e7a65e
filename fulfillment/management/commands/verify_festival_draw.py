from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from fulfillment.services import lottery
from preorder_shop.commands import pad
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
            raise CommandError(
                _("No campaign with slug '%(slug)s'.") % {"slug": campaign}
            ) from exc
        try:
            result = lottery.verify_draw(campaign=target)
        except lottery.LotteryError as exc:
            raise CommandError(exc.message) from exc
        draw = result.draw
        for label, value in [
            (_("Seed"), draw.seed),
            ("SHA-256", draw.seed_hash),
            (_("Entrants"), f"{result.entrants:,}"),
            (_("Capacity"), f"{target.festival_capacity:,}"),
        ]:
            self.stdout.write(pad(f"{label}:", 11) + value)
        if result.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    _("OK: %(winners)s winners recomputed.") % {"winners": f"{result.winners:,}"}
                )
            )
            return
        for difference in result.differences:
            self.stdout.write(self.style.ERROR(_("DIFFERS: %(what)s") % {"what": difference}))
        raise CommandError(
            _("%(count)s difference(s) found.") % {"count": len(result.differences)}
        )
