import os
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from fulfillment.services import lottery
from preorder_shop.commands import add_operator_argument, operator_of, pad
from reservations.models import Campaign


class Command(BaseCommand):
    help = (
        "The launch-festival pickup lottery. `commit` (while reservations are open) fixes a "
        "secret seed and publishes its SHA-256 on the campaign page; keep the seed it hands "
        "you. `reveal` (after reservations close) draws the winners with that seed, "
        "publishes it, moves those not drawn to courier delivery and tells everyone. "
        "A second reveal changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", required=True, metavar="SLUG")
        parser.add_argument("action", choices=["commit", "reveal"])
        parser.add_argument(
            "--seed-file",
            metavar="PATH",
            help="commit: write the secret seed to this new file (mode 0600) instead of "
            "printing it; reveal: read the seed from it ('-' reads standard input)",
        )
        parser.add_argument("--seed", help="reveal: the seed handed out at the commit")
        add_operator_argument(parser)

    def handle(self, *args, campaign: str, action: str, seed_file, seed, **options):
        self.operator = operator_of(options)
        try:
            target = Campaign.objects.get(slug=campaign)
        except Campaign.DoesNotExist as exc:
            raise CommandError(
                _("No campaign with slug '%(slug)s'.") % {"slug": campaign}
            ) from exc
        try:
            if action == "commit":
                self._commit(target, seed_file)
            else:
                self._reveal(target, seed, seed_file)
        except lottery.LotteryError as exc:
            raise CommandError(exc.message) from exc

    def _commit(self, campaign: Campaign, seed_file: str | None) -> None:
        fd = None
        if seed_file:
            # Create the file before committing: a seed that cannot be kept must not be used.
            try:
                fd = os.open(seed_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except OSError as exc:
                raise CommandError(
                    _("Cannot create the seed file: %(error)s") % {"error": exc}
                ) from exc
        try:
            result = lottery.commit_draw(campaign=campaign, actor=self.operator)
        except lottery.LotteryError:
            if fd is not None:
                os.close(fd)
                os.unlink(seed_file)
            raise
        draw = result.draw
        committed = lottery.when(draw.committed_at)
        self.stdout.write(
            self.style.SUCCESS(
                _("Committed the festival draw of '%(slug)s' at %(when)s.")
                % {"slug": campaign.slug, "when": committed}
            )
        )
        self.stdout.write(_("Published SHA-256: %(hash)s") % {"hash": draw.seed_hash})
        if fd is not None:
            with os.fdopen(fd, "w") as handle:
                handle.write(result.seed + "\n")
            self.stdout.write(_("The secret seed is in %(file)s.") % {"file": seed_file})
        else:
            self.stdout.write(_("Secret seed: %(seed)s") % {"seed": result.seed})
        self.stdout.write(
            self.style.WARNING(
                _(
                    "Keep the seed secret and safe: it is stored nowhere else, and the reveal "
                    "needs it (%(command)s)."
                )
                % {"command": "`draw_festival --campaign SLUG reveal --seed-file PATH`"}
            )
        )

    def _reveal(self, campaign: Campaign, seed: str | None, seed_file: str | None) -> None:
        if seed and seed_file:
            raise CommandError(_("Give the seed either with --seed or with --seed-file."))
        if seed_file == "-":
            seed = sys.stdin.readline()
        elif seed_file:
            try:
                with open(seed_file) as handle:
                    seed = handle.readline()
            except OSError as exc:
                raise CommandError(
                    _("Cannot read the seed file: %(error)s") % {"error": exc}
                ) from exc
        result = lottery.reveal_draw(campaign=campaign, seed=seed, actor=self.operator)
        draw = result.draw
        if result.changed:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Revealed the festival draw of '%(slug)s'.") % {"slug": campaign.slug}
                )
            )
        else:
            self.stdout.write(
                _(
                    "The festival draw of '%(slug)s' was already revealed at %(when)s; "
                    "nothing changed."
                )
                % {"slug": campaign.slug, "when": lottery.when(draw.revealed_at)}
            )
        not_drawn = f"{result.entrants - result.winners:,}"
        for label, value in [
            (_("Seed"), draw.seed),
            ("SHA-256", draw.seed_hash),
            (_("Entrants"), f"{result.entrants:,}"),
            (_("Winners"), f"{result.winners:,}"),
            (_("Not drawn"), _("%(count)s (now courier delivery)") % {"count": not_drawn}),
            (_("Check it"), f"manage.py verify_festival_draw --campaign {campaign.slug}"),
        ]:
            self.stdout.write(pad(f"{label}:", 11) + value)
