from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from fulfillment import audit
from orders.models import OrderStatus
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
            raise CommandError(
                _("No campaign with slug '%(slug)s'.") % {"slug": campaign}
            ) from exc
        if show < 0:
            raise CommandError(_("--show must be 0 or more."))
        report = audit.fairness_report(campaign=target, limit=show)
        self.stdout.write(
            _("Fairness audit of %(slug)s (%(name)s)") % {"slug": target.slug, "name": target}
        )
        self._summary(report)
        self._queue_exceptions(report)
        if report.is_fair:
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "No unexplained inversion and no order without a unit: every order "
                        "moved in queue order or with a recorded reason, each with a unit."
                    )
                )
            )
            return
        self._pairs(report)
        self._stock(report.stock)
        found = [
            (
                report.unexplained_orders,
                _("%(count)s order(s) overtaken without a recorded reason"),
            ),
            (
                report.stock.without_unit_count,
                _("%(count)s order(s) past received without a unit"),
            ),
            (
                len(report.stock.lots),
                _("%(count)s lot(s) with more units given out than they hold"),
            ),
            (
                len(report.stock.variants),
                _("%(count)s variant(s) with more orders moved than units arrived"),
            ),
        ]
        rule = _(
            "Nothing may move past received out of queue order without a recorded reason, "
            "nor without a unit."
        )
        raise CommandError(
            "; ".join(what % {"count": f"{n:,}"} for n, what in found if n) + ". " + rule,
            returncode=1,
        )

    def _summary(self, report: audit.FairnessReport) -> None:
        reasons = audit.Justification
        header = (
            _("variant"),
            _("positions"),
            _("overtaken"),
            _("late form"),
            _("not ready"),
            _("on hold"),
            _("cancelled"),
            _("no unit"),
            _("exception"),
            _("unexplained"),
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
            _(
                "(overtaken orders; each counted under every reason that justified one of its "
                "inversions, and as unexplained when one of its inversions has no reason; "
                "exception: passed by a staff move with a recorded queue exception)"
            )
        )

    def _pairs(self, report: audit.FairnessReport) -> None:
        if not report.unexplained:
            return
        shown = len(report.unexplained)
        counts = {"shown": f"{shown:,}"}
        if report.more_unexplained:
            title = _("Unexplained inversions (first %(shown)s, more exist: raise --show):")
        else:
            title = _("Unexplained inversions (first %(shown)s):")
        self.stdout.write("\n" + title % counts)
        header = (
            _("variant"),
            _("stage"),
            _("earlier"),
            _("order"),
            _("reached"),
            _("later"),
            _("order"),
            _("reached"),
            _("moved by"),
        )
        lines = [
            (
                p.variant,
                _status(p.stage),
                f"#{p.earlier_position}",
                f"{p.earlier_order or p.earlier_reservation} "
                f"({_status(p.earlier_status) if p.earlier_status else '-'})",
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
                "\n"
                + _(
                    "Orders past received without a unit of their variant (%(count)s; "
                    "first %(shown)s):"
                )
                % {"count": f"{found.without_unit_count:,}", "shown": f"{shown:,}"}
            )
            header = (
                _("variant"),
                _("position"),
                _("order"),
                _("status"),
                _("preparing since"),
                _("unit"),
            )
            lines = [
                (
                    o.variant,
                    f"#{o.position}",
                    o.order_number,
                    _status(o.status),
                    _when(o.preparing_at),
                    _("none")
                    if o.unit_allocated_at is None
                    else _("only from %(when)s") % {"when": _when(o.unit_allocated_at)},
                )
                for o in found.without_unit
            ]
            print_table(self.stdout.write, header, lines)
        if found.lots:
            self.stdout.write("\n" + _("Lots with more units given out than they hold:"))
            header = (_("lot"), _("variant"), _("quantity"), _("given out"), _("past received"))
            lines = [
                (lot.reference, lot.variant, lot.quantity, lot.given, lot.past_received)
                for lot in found.lots
            ]
            print_table(self.stdout.write, header, lines)
        if found.variants:
            self.stdout.write(
                "\n" + _("Variants with more orders past received than units arrived:")
            )
            header = (_("variant"), _("first at"), _("orders moved"), _("units arrived"))
            lines = [(v.variant, _when(v.at), v.orders, v.units) for v in found.variants]
            print_table(self.stdout.write, header, lines)

    def _queue_exceptions(self, report: audit.FairnessReport) -> None:
        if not report.queue_exceptions:
            return
        self.stdout.write("\n" + _("Recorded queue exceptions (staff moves past ready orders):"))
        header = (
            _("order"),
            _("position"),
            _("passed from"),
            _("passed"),
            _("by"),
            _("at"),
            _("reason"),
        )
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


def _status(value: str) -> str:
    """A stored status in the reader's words: "Preparing", "배송 준비 중"."""
    return str(OrderStatus(value).label) if value in OrderStatus.values else value


def _when(moment) -> str:
    if moment is None:
        return _("not yet")
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")
