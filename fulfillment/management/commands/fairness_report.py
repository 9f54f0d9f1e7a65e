from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from fulfillment import audit
from reservations.models import Campaign


class Command(BaseCommand):
    help = (
        "The fairness audit of a campaign: per variant, how many orders a later position "
        "passed (to preparing or shipped), why, and every unexplained inversion. Exits with "
        "status 1 when any unexplained inversion exists. Reads only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", required=True, metavar="SLUG")
        parser.add_argument(
            "--show",
            type=int,
            default=20,
            metavar="N",
            help="How many unexplained pairs to list (default 20; 0 for none).",
        )

    def handle(self, *args, campaign: str, show: int, **options):
        try:
            target = Campaign.objects.get(slug=campaign)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"No campaign with slug '{campaign}'.") from exc
        if show < 0:
            raise CommandError("--show must be 0 or more.")
        report = audit.fairness_report(campaign=target, limit=show)
        self.stdout.write(f"Fairness audit of {target.slug} ({target})")
        self._summary(report)
        if report.is_fair:
            self.stdout.write(
                self.style.SUCCESS(
                    "No unexplained inversion: every order moved in queue order "
                    "or with a recorded reason."
                )
            )
            return
        self.stdout.write("")
        self._pairs(report)
        raise CommandError(
            f"{report.unexplained_orders:,} order(s) overtaken without a recorded reason: a "
            "later position reached preparing or shipped before them.",
            returncode=1,
        )

    def _summary(self, report: audit.FairnessReport) -> None:
        reasons = audit.Justification
        header = (
            "variant",
            "positions",
            "overtaken",
            "late form",
            "not ready",
            "on hold",
            "cancelled",
            "no unit",
            "unexplained",
        )
        lines = [
            (
                v.label,
                f"{v.positions:,}",
                f"{v.overtaken:,}",
                f"{v.justified[reasons.LATE_SUBMISSION]:,}",
                f"{v.justified[reasons.NOT_READY]:,}",
                f"{v.justified[reasons.ON_HOLD]:,}",
                f"{v.justified[reasons.CANCELLED]:,}",
                f"{v.justified[reasons.NO_UNIT]:,}",
                f"{v.unexplained:,}",
            )
            for v in report.variants
        ]
        self._table(header, lines)
        self.stdout.write(
            "(overtaken orders; each counted under every reason that justified one of its "
            "inversions, and as unexplained when one of its inversions has no reason)"
        )

    def _pairs(self, report: audit.FairnessReport) -> None:
        if not report.unexplained:
            return
        shown = len(report.unexplained)
        more = ", more exist: raise --show" if report.more_unexplained else ""
        self.stdout.write(f"Unexplained inversions (first {shown:,}{more}):")
        header = ("variant", "stage", "earlier", "order", "reached", "later", "order", "reached")
        lines = [
            (
                p.variant,
                p.stage,
                f"#{p.earlier_position}",
                f"{p.earlier_order or p.earlier_reservation} ({p.earlier_status or '-'})",
                _when(p.earlier_at),
                f"#{p.later_position}",
                p.later_order,
                _when(p.later_at),
            )
            for p in report.unexplained
        ]
        self._table(header, lines)

    def _table(self, header, lines) -> None:
        widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=True)]
        for line in [header, *lines]:
            self.stdout.write(
                "  ".join(
                    str(cell).ljust(w) if i == 0 else str(cell).rjust(w)
                    for i, (cell, w) in enumerate(zip(line, widths, strict=True))
                )
            )


def _when(moment) -> str:
    if moment is None:
        return "not yet"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")
