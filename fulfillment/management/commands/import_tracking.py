"""`manage.py import_tracking FILE.csv`: a courier's tracking file, all or nothing."""

import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from fulfillment.services.tracking_import import import_tracking
from preorder_shop.commands import add_operator_argument, operator_of

# The columns, in the order couriers are asked to send them.
REQUIRED = ("order_number", "courier", "tracking_number", "event", "occurred_at", "event_id")


class Command(BaseCommand):
    help = (
        "Import a courier's tracking file (CSV with the columns order_number, courier, "
        "tracking_number, event (handed_over or delivered), occurred_at (ISO 8601; without "
        "an offset it is Korean time) and event_id). Hand-overs ship orders, deliveries "
        "deliver them. All or nothing: any bad row and nothing changes. Re-importing a file "
        "changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Check and report only.")
        parser.add_argument("--encoding", default="utf-8-sig", help="Default: UTF-8.")
        add_operator_argument(parser)

    def handle(self, *args, file: Path, dry_run: bool, encoding: str, **options):
        rows = self._read(file, encoding)
        result = import_tracking(
            rows=rows, actor=operator_of(options), reference=file.name, dry_run=dry_run
        )
        if result.errors:
            for message in result.errors:
                self.stderr.write(message)
            raise CommandError(
                _("%(file)s: %(errors)s error(s) in %(rows)s row(s); nothing was imported.")
                % {"file": file, "errors": len(result.errors), "rows": len(rows)}
            )
        kinds = ("handed_over", "delivered", "confirmed", "duplicate")
        counts = {"rows": len(rows), **{kind: result.counts[kind] for kind in kinds}}
        if dry_run:
            summary = _(
                "%(rows)s row(s): %(handed_over)s would be handed over (shipped), "
                "%(delivered)s would be delivered, %(confirmed)s confirmed (order already "
                "there), %(duplicate)s duplicate(s) skipped."
            )
            summary = f"{summary % counts} {_('Dry run: nothing was changed.')}"
        else:
            summary = (
                _(
                    "%(rows)s row(s): %(handed_over)s handed over (shipped), %(delivered)s "
                    "delivered, %(confirmed)s confirmed (order already there), %(duplicate)s "
                    "duplicate(s) skipped."
                )
                % counts
            )
        self.stdout.write(self.style.SUCCESS(summary))

    def _read(self, file: Path, encoding: str) -> list[tuple[int, dict]]:
        try:
            with file.open(newline="", encoding=encoding) as handle:
                reader = csv.DictReader(handle, restkey="\0extra")
                header = reader.fieldnames or []
                missing = [name for name in REQUIRED if name not in header]
                if not header:
                    raise CommandError(
                        _("%(file)s: the file is empty (no header row).") % {"file": file}
                    )
                if missing:
                    raise CommandError(
                        _(
                            "%(file)s: missing column(s) %(missing)s; the header must name "
                            "%(required)s. Nothing was imported."
                        )
                        % {
                            "file": file,
                            "missing": ", ".join(missing),
                            "required": ", ".join(REQUIRED),
                        }
                    )
                rows = [(reader.line_num, row) for row in reader]
        except OSError as exc:
            raise CommandError(
                _("%(file)s: cannot read it (%(error)s).") % {"file": file, "error": exc.strerror}
            ) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(
                _("%(file)s: not %(encoding)s text (byte %(byte)s); try --encoding cp949.")
                % {"file": file, "encoding": encoding, "byte": exc.start}
            ) from exc
        except csv.Error as exc:
            raise CommandError(
                _("%(file)s: not a readable CSV file (%(error)s).") % {"file": file, "error": exc}
            ) from exc
        bad = [line for line, row in rows if "\0extra" in row]
        if bad:
            raise CommandError(
                _(
                    "%(file)s: line(s) %(lines)s have more fields than the header. "
                    "Nothing was imported."
                )
                % {"file": file, "lines": ", ".join(map(str, bad))}
            )
        return rows
