import os
import sys

from django.core.management.base import BaseCommand, CommandError

from fulfillment.services import lottery
from preorder_shop.commands import add_operator_argument, operator_of
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
            raise CommandError(f"No campaign with slug '{campaign}'.") from exc
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
                raise CommandError(f"Cannot create the seed file: {exc}") from exc
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
            self.style.SUCCESS(f"Committed the festival draw of '{campaign.slug}' at {committed}.")
        )
        self.stdout.write(f"Published SHA-256: {draw.seed_hash}")
        if fd is not None:
            with os.fdopen(fd, "w") as handle:
                handle.write(result.seed + "\n")
            self.stdout.write(f"The secret seed is in {seed_file}.")
        else:
            self.stdout.write(f"Secret seed: {result.seed}")
        self.stdout.write(
            self.style.WARNING(
                "Keep the seed secret and safe: it is stored nowhere else, and the reveal "
                "needs it (`draw_festival --campaign SLUG reveal --seed-file PATH`)."
            )
        )

    def _reveal(self, campaign: Campaign, seed: str | None, seed_file: str | None) -> None:
        if seed and seed_file:
            raise CommandError("Give the seed either with --seed or with --seed-file.")
        if seed_file == "-":
            seed = sys.stdin.readline()
        elif seed_file:
            try:
                with open(seed_file) as handle:
                    seed = handle.readline()
            except OSError as exc:
                raise CommandError(f"Cannot read the seed file: {exc}") from exc
        result = lottery.reveal_draw(campaign=campaign, seed=seed, actor=self.operator)
        draw = result.draw
        if result.changed:
            self.stdout.write(
                self.style.SUCCESS(f"Revealed the festival draw of '{campaign.slug}'.")
            )
        else:
            self.stdout.write(
                f"The festival draw of '{campaign.slug}' was already revealed at "
                f"{lottery.when(draw.revealed_at)}; nothing changed."
            )
        for label, value in [
            ("Seed", draw.seed),
            ("SHA-256", draw.seed_hash),
            ("Entrants", f"{result.entrants:,}"),
            ("Winners", f"{result.winners:,}"),
            ("Not drawn", f"{result.entrants - result.winners:,} (now courier delivery)"),
            ("Check it", f"manage.py verify_festival_draw --campaign {campaign.slug}"),
        ]:
            self.stdout.write(f"{label + ':':<11}{value}")
