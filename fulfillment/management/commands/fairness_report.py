from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from fulfillment import audit
from preorder_shop.commands import print_table
from reservations.models import Campaign


class Command(BaseCommand):
    help = (
        "The fairness audit of a campaign: per variant, how many orders a later position "
        "passed (to preparing or shipped), why, and every unexplained inversion; orders past "
        "received without a unit, oversold lots and variants; recorded queue exceptions. "
        "Exits with status 1 when any unexplained inversion or unit or stock exception "
        "exists. Reads only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", required=True, metavar="SLUG")
        parser.add_argument(
            "--show",
            type=int,
            default=20,
            metavar="N",
            help=(
                "How many unexplained pairs and orders without a unit to list (default 20; "
                "0 for none)."
            ),
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
        self._queue_exceptions(report)
        if report.is_fair:
            self.stdout.write(
                self.style.SUCCESS(
                    "No unexplained inversion and no order without a unit: every order moved "
                    "in queue order or with a recorded reason, each with a unit."
                )
            )
            return
        self._pairs(report)
        self._stock(report.stock)
        found = [
            (report.unexplained_orders, "order(s) overtaken without a recorded reason"),
            (report.stock.without_unit_count, "order(s) past received without a unit"),
            (len(report.stock.lots), "lot(s) with more units given out than they hold"),
            (len(report.stock.variants), "variant(s) with more orders moved than units arrived"),
        ]
        raise CommandError(
            "; ".join(f"{n:,} {what}" for n, what in found if n)
            + ". Nothing may move past received out of queue order without a recorded reason, "
            "nor without a unit.",
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
            "exception",
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
                f"{v.justified[reasons.QUEUE_EXCEPTION]:,}",
                f"{v.unexplained:,}",
            )
            for v in report.variants
        ]
        print_table(self.stdout.write, header, lines)
        self.stdout.write(
            "(overtaken orders; each counted under every reason that justified one of its "
            "inversions, and as unexplained when one of its inversions has no reason; "
            "exception: passed by a staff move with a recorded queue exception)"
        )

    def _pairs(self, report: audit.FairnessReport) -> None:
        if not report.unexplained:
            return
        shown = len(report.unexplained)
        more = ", more exist: raise --show" if report.more_unexplained else ""
        self.stdout.write(f"\nUnexplained inversions (first {shown:,}{more}):")
        header = (
            "variant",
            "stage",
            "earlier",
            "order",
            "reached",
            "later",
            "order",
            "reached",
            "moved by",
        )
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
                p.later_by or "-",
            )
            for p in report.unexplained
        ]
        print_table(self.stdout.write, header, lines)

    def _stock(self, found: audit.StockExceptions) -> None:
        if found.without_unit_count:
            shown = len(found.without_unit)
            self.stdout.write(
                f"\nOrders past received without a unit of their variant "
                f"({found.without_unit_count:,}; first {shown:,}):"
            )
            header = ("variant", "position", "order", "status", "preparing since", "unit")
            lines = [
                (
                    o.variant,
                    f"#{o.position}",
                    o.order_number,
                    o.status,
                    _when(o.preparing_at),
                    "none"
                    if o.unit_allocated_at is None
                    else f"only from {_when(o.unit_allocated_at)}",
                )
                for o in found.without_unit
            ]
            print_table(self.stdout.write, header, lines)
        if found.lots:
            self.stdout.write("\nLots with more units given out than they hold:")
            header = ("lot", "variant", "quantity", "given out", "past received")
            lines = [
                (lot.reference, lot.variant, lot.quantity, lot.given, lot.past_received)
                for lot in found.lots
            ]
            print_table(self.stdout.write, header, lines)
        if found.variants:
            self.stdout.write("\nVariants with more orders past received than units arrived:")
            header = ("variant", "first at", "orders moved", "units arrived")
            lines = [(v.variant, _when(v.at), v.orders, v.units) for v in found.variants]
            print_table(self.stdout.write, header, lines)

    def _queue_exceptions(self, report: audit.FairnessReport) -> None:
        if not report.queue_exceptions:
            return
        self.stdout.write("\nRecorded queue exceptions (staff moves past ready orders):")
        header = ("order", "position", "passed from", "passed", "by", "at", "reason")
        lines = [
            (
                q.order.number,
                f"#{q.order.reservation.position}",
                f"#{q.passed_position}",
                q.passed_count,
                q.staff_user.get_username(),
                _when(q.at),
                q.reason,
            )
            for q in report.queue_exceptions
        ]
        print_table(self.stdout.write, header, lines)


def _when(moment) -> str:
    if moment is None:
        return "not yet"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")
