from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from fulfillment.services.stock_import import (
    COLUMNS,
    StockImportError,
    format_arrival,
    import_stock,
)
from preorder_shop.commands import add_operator_argument, operator_of, print_table


class Command(BaseCommand):
    help = (
        "Record stock lots from a supplier's CSV file (header row: "
        + ", ".join(COLUMNS)
        + "). Every row is checked first; any error means nothing is written. Importing "
        "the same file again changes nothing. arrives_at is ISO 8601 with an offset or "
        "'YYYY-MM-DD HH:MM' in Seoul time."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, metavar="FILE.csv")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and summarise; write nothing."
        )
        parser.add_argument(
            "--encoding",
            default="utf-8-sig",
            help="Text encoding of the file (default UTF-8; cp949 for a Korean Excel export).",
        )
        add_operator_argument(parser)

    def handle(self, *args, file: Path, dry_run: bool, encoding: str, **options):
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": file, "error": exc.strerror or exc}
            ) from exc
        try:
            result = import_stock(
                data=data,
                encoding=encoding,
                dry_run=dry_run,
                actor=operator_of(options),
                reference=file.name,
            )
        except StockImportError as exc:
            for error in exc.errors:
                self.stderr.write(f"{file.name}: {error}")
            raise CommandError(
                _("%(count)s error(s) in %(file)s: nothing was imported.")
                % {"count": len(exc.errors), "file": file.name}
            ) from exc

        self._table(result.summary)
        counts = {"new": f"{result.created:,}", "there": f"{result.already_there:,}"}
        if dry_run:
            summary = _("would record %(new)s new lot(s); %(there)s already there.") % counts
            summary += " " + _("(dry run: nothing was changed)")
        else:
            summary = _("recorded %(new)s new lot(s); %(there)s already there.") % counts
        self.stdout.write(self.style.SUCCESS(summary))

    def _table(self, summary) -> None:
        header = (
            _("campaign"),
            _("variant"),
            _("lots"),
            _("units"),
            _("earliest arrival"),
            _("latest arrival"),
            _("new"),
            _("already there"),
        )
        lines = [
            (
                s.campaign,
                s.variant,
                f"{s.lots:,}",
                f"{s.units:,}",
                format_arrival(s.earliest),
                format_arrival(s.latest),
                f"{s.new:,}",
                f"{s.already_there:,}",
            )
            for s in summary
        ]
        print_table(self.stdout.write, header, lines, text_columns=2)
        self.stdout.write(_("(times in Seoul time)"))
