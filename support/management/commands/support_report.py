import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from preorder_shop.charts import minutes, percent
from preorder_shop.commands import print_table
from reservations.models import Campaign
from support import figures
from support.shifts import desk_zone

BAD_INPUT = 2  # as argparse exits on a bad argument; 1 is "a breach without a reason"


class Command(BaseCommand):
    help = (
        "The support desk's figures for a campaign (the staff figures page's): per category "
        "and per day in the desk's zone, tickets opened, first-response time p50 and p90, "
        "the share answered within the SLA, deflections, callbacks kept; the backlog by "
        "wait; every SLA policy difference with its reason. Exits with status 1 when a "
        "ticket of the period missed its SLA without a recorded reason, and lists those "
        "tickets' numbers. Reads only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", required=True, metavar="SLUG")
        parser.add_argument(
            "--since",
            metavar="YYYY-MM-DD",
            help="First day, in the desk's zone (default: the day reservations opened).",
        )

    def handle(self, *args, campaign: str, since: str | None, **options):
        target = Campaign.objects.filter(slug=campaign).first()
        if target is None:
            raise CommandError(
                _("No campaign with slug '%(slug)s'.") % {"slug": campaign}, returncode=BAD_INPUT
            )
        found = figures.desk_figures(campaign=target, since=_day(since))
        self.stdout.write(
            _("Support desk figures of %(slug)s (%(name)s), %(since)s to %(until)s (%(zone)s)")
            % {
                "slug": target.slug,
                "name": target,
                "since": found.since.isoformat(),
                "until": found.until.isoformat(),
                "zone": desk_zone().key,
            }
        )
        self._per_category(found)
        self._per_day(found)
        self._backlog(found)
        self._policies()
        self._breaches(found)

    def _per_category(self, found: figures.Figures) -> None:
        self.stdout.write("\n" + _("Per category:"))
        rows = [
            (label, *_figures(found.cell(category=value))) for value, label in found.categories
        ]
        print_table(self.stdout.write, (_("category"), *_headers()), [*rows, _total(found)])

    def _per_day(self, found: figures.Figures) -> None:
        self.stdout.write("\n" + _("Per day (days with tickets, deflections or callbacks):"))
        header = (_("day"), _("category"), *_headers())
        rows = []
        for day in found.days:
            if not _active(found.cell(day)):
                continue
            rows.append((day.isoformat(), _("all"), *_figures(found.cell(day))))
            for value, label in found.categories:
                cell = found.cell(day, value)
                if _active(cell):
                    rows.append(("", label, *_figures(cell)))
        print_table(self.stdout.write, header, rows, text_columns=2)

    def _backlog(self, found: figures.Figures) -> None:
        self.stdout.write("\n" + _("Backlog now (open tickets by how long they have waited):"))
        rows = [
            (label, *(f"{n:,}" for n in found.backlog_of(value)))
            for value, label in found.categories
        ]
        rows.append((_("all"), *(f"{n:,}" for n in found.backlog_of())))
        header = (_("category"), *(str(label) for label in figures.BACKLOG_LABELS))
        print_table(self.stdout.write, header, rows)

    def _policies(self) -> None:
        default, differences = figures.policy_differences()
        self.stdout.write("\n" + _("SLA policy (targets in staffed time):"))
        if default is not None:
            self.stdout.write(
                _("Default, every category: first response %(first)s, resolution %(resolution)s")
                % _targets(default)
            )
        if not differences:
            self.stdout.write(_("No category differs from the default."))
            return
        self.stdout.write(_("Categories that differ from the default:"))
        header = (
            _("category"),
            _("reason"),
            _("decided by"),
            _("decided at"),
            _("first response"),
            _("resolution"),
        )
        rows = [
            (
                policy.get_category_display(),
                policy.reason,
                policy.decided_by.get_username() if policy.decided_by_id else "-",
                _when(policy.decided_at),
                _targets(policy)["first"],
                _targets(policy)["resolution"],
            )
            for policy in differences
        ]
        print_table(self.stdout.write, header, rows, text_columns=4)

    def _breaches(self, found: figures.Figures) -> None:
        explained = len(found.breaches) - len(found.unexplained)
        self.stdout.write(
            "\n"
            + _(
                "SLA breaches: %(count)s ticket(s) missed a deadline, %(explained)s with a reason."
            )
            % {"count": f"{len(found.breaches):,}", "explained": f"{explained:,}"}
        )
        if not found.unexplained:
            self.stdout.write(self.style.SUCCESS(_("Every breach has a recorded reason.")))
            return
        self.stdout.write(_("Without a recorded reason:"))
        rows = [(b.number, _missed(b)) for b in found.unexplained]
        print_table(self.stdout.write, (_("ticket"), _("missed")), rows, text_columns=2)
        raise CommandError(
            _(
                "%(count)s ticket(s) missed the SLA without a recorded reason. A miss is "
                "allowed only with its reason on the ticket."
            )
            % {"count": f"{len(found.unexplained):,}"},
            returncode=1,
        )


def _day(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        # fromisoformat also takes 20260921 and 2026-W39-1: only YYYY-MM-DD is asked for.
        day = dt.date.fromisoformat(text) if len(text) == len("YYYY-MM-DD") else None
    except ValueError:
        day = None
    if day is None:
        raise CommandError(
            _("--since must be a date as YYYY-MM-DD, not '%(text)s'.") % {"text": text},
            returncode=BAD_INPUT,
        )
    if day > timezone.now().astimezone(desk_zone()).date():
        raise CommandError(_("--since cannot be after today."), returncode=BAD_INPUT)
    return day


def _active(cell: figures.Cell) -> bool:
    return bool(cell.opened or cell.deflected or cell.callbacks)


def _headers() -> tuple[str, ...]:
    return (
        _("opened"),
        _("answered"),
        _("1st response p50"),
        _("p90"),
        _("within SLA"),
        _("deflected"),
        _("deflection rate"),
        _("callbacks kept"),
    )


def _figures(cell: figures.Cell) -> tuple[str, ...]:
    return (
        f"{cell.opened:,}",
        f"{cell.answered:,}",
        _duration(cell.response_p50),
        _duration(cell.response_p90),
        _share(cell.within_sla, cell.sla_decided),
        f"{cell.deflected:,}",
        "-" if cell.deflection_rate is None else percent(cell.deflection_rate),
        _share(cell.kept_rate, cell.callbacks),
    )


def _total(found: figures.Figures) -> tuple[str, ...]:
    return (_("all"), *_figures(found.cell()))


def _duration(value: dt.timedelta | None) -> str:
    return "-" if value is None else minutes(value.total_seconds() / 60)


def _share(value: float | None, decided: int) -> str:
    if value is None:
        return "-"
    return _("%(share)s of %(decided)s") % {"share": percent(value), "decided": f"{decided:,}"}


def _targets(policy) -> dict[str, str]:
    return {
        "first": minutes(policy.first_response_minutes),
        "resolution": minutes(policy.resolution_minutes),
    }


def _missed(breach: figures.Breach) -> str:
    missed = [_("first response")] if breach.first_response else []
    if breach.resolution:
        missed.append(_("resolution"))
    return ", ".join(missed)


def _when(at: dt.datetime) -> str:
    return formats.date_format(at.astimezone(desk_zone()), "Y-m-d H:i")
