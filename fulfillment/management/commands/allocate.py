import contextlib

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment import selectors
from fulfillment.services import allocation
from preorder_shop.commands import add_operator_argument, operator_of, print_table
from reservations.models import Campaign


class Command(BaseCommand):
    help = (
        "Give arrived stock to reservations in queue order, per variant, and release the "
        "units of reservations that ended. Safe to run again; --dry-run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", required=True, metavar="SLUG")
        parser.add_argument("--dry-run", action="store_true")
        add_operator_argument(parser)

    def handle(self, *args, campaign: str, dry_run: bool, **options):
        try:
            target = Campaign.objects.get(slug=campaign)
        except Campaign.DoesNotExist as exc:
            raise CommandError(
                _("No campaign with slug '%(slug)s'.") % {"slug": campaign}
            ) from exc
        now = timezone.now()
        total = target.variants.count()
        done = 0

        def progress(_variant) -> None:
            nonlocal done
            done += 1
            bar = "#" * (30 * done // total)
            count = _("%(done)s/%(total)s variants") % {"done": done, "total": total}
            self.stdout.write(f"\r[{bar:<30}] {count}", ending="")
            self.stdout.flush()

        # A real run commits variant by variant (each holds its queue lock, and so pauses
        # that variant's intake, only for its own statements). A dry run must see what it
        # would do and then undo it, so it runs in one transaction that is rolled back.
        with transaction.atomic() if dry_run else contextlib.nullcontext():
            results = allocation.allocate_campaign(
                campaign=target, now=now, progress=progress, actor=operator_of(options)
            )
            rows = selectors.stock_by_variant(campaign=target, now=now)
            if dry_run:
                transaction.set_rollback(True)  # nothing stays, nothing is sent
        self.stdout.write("")
        self._table(rows)
        allocated = sum(r.allocated for r in results)
        released = sum(r.released for r in results)
        counts = {"allocated": f"{allocated:,}", "released": f"{released:,}"}
        if dry_run:
            summary = _("would allocate %(allocated)s units, released %(released)s.") % counts
            summary += " " + _("(dry run: nothing was changed)")
        else:
            summary = _("allocated %(allocated)s units, released %(released)s.") % counts
        self.stdout.write(self.style.SUCCESS(summary))

    def _table(self, rows) -> None:
        header = (
            _("variant"),
            _("arrived"),
            _("allocated"),
            _("held for form"),
            _("waiting"),
            _("next in line"),
        )
        lines = [
            (
                r.label,
                f"{r.arrived:,}",
                f"{r.allocated:,}",
                f"{r.held_for_order_form:,}",
                f"{r.waiting:,}",
                "-" if r.next_position is None else f"#{r.next_position:,}",
            )
            for r in rows
        ]
        print_table(self.stdout.write, header, lines)
