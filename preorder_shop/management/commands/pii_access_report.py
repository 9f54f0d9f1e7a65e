"""`manage.py pii_access_report [--since 2026-12-01] [--user NAME]`: the personal data
access log as a table, oldest first (customers masked, as in admin)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from preorder_shop.commands import print_table
from preorder_shop.personal_data import accesses


def _day(value: str) -> dt.datetime:
    """The start of that day in the shop's time zone (Seoul)."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(
            _("--since takes a date such as 2026-12-01, not %(value)r.") % {"value": value}
        ) from exc
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class Command(BaseCommand):
    help = (
        "Print the personal data access log (reveals, calls, exports), oldest first: "
        "from --since (a date, Korean time) and of --user (a staff username) if given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", metavar="YYYY-MM-DD", help="From this day on.")
        parser.add_argument("--user", metavar="USERNAME", default="", help="One staff user.")

    def handle(self, *args, since: str | None, user: str, **options):
        rows = accesses(since=_day(since) if since else None, username=user)
        header = [
            _("at"),
            _("staff member"),
            _("kind"),
            _("customer"),
            _("customers"),
            _("shown on"),
            _("fields"),
            _("reason"),
        ]
        table = [
            [
                timezone.localtime(row.at).strftime("%Y-%m-%d %H:%M:%S"),
                row.staff_user.get_username(),
                row.get_kind_display(),
                str(row.customer) if row.customer else "—",
                row.customer_count,
                row.reference,
                ",".join(row.fields),
                " · ".join(filter(None, [row.get_reason_code_display(), row.reason])) or "—",
            ]
            for row in rows.iterator()
        ]
        if not table:
            self.stdout.write(_("No personal data was accessed in this period."))
            return
        print_table(self.stdout.write, header, table, text_columns=len(header))
        self.stdout.write(_("%(count)d access(es).") % {"count": len(table)})
