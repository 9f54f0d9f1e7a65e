"""Stock lots from a supplier's or courier's CSV file: validate every row, then write all of
them or none.

The file has a header row naming these columns (any order; other columns are ignored):

    campaign, model, capacity_gb, colour, quantity, arrives_at, reference

`campaign` is the campaign's slug; `model`, `capacity_gb` and `colour` name one of its
variants (model and colour compared without regard to case or surrounding spaces);
`quantity` is a whole number above 0; `arrives_at` is ISO 8601 with a UTC offset
(2026-11-20T09:00+09:00) or 'YYYY-MM-DD HH:MM' read as Seoul time; `reference` is the
supplier's shipment reference. Rows are numbered as a spreadsheet shows them: the header is
row 1, the first lot row 2.

Re-importing a file changes nothing: a row whose variant and reference are already recorded
with the same quantity and arrival is counted as "already there". The same reference with
another quantity or arrival is an error, never a silent overwrite: a lot's units may
already be allocated, so changing it is a deliberate edit in the admin.

A shipment may carry several variants under one reference (the database keeps a reference
unique per variant), so a reference repeats within a file only across variants.
"""

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from preorder_shop.actors import Actor
from preorder_shop.operations import record_operation
from reservations.models import Campaign, Variant

from ..models import StockLot

SEOUL = ZoneInfo("Asia/Seoul")
COLUMNS = ("campaign", "model", "capacity_gb", "colour", "quantity", "arrives_at", "reference")
MAX_QUANTITY = 2_147_483_647  # the column is a PostgreSQL integer
REFERENCE_MAX_LENGTH = StockLot._meta.get_field("reference").max_length
LOCAL_FORMAT = "%Y-%m-%d %H:%M"
WHOLE_NUMBER = re.compile(r"[0-9]+")


class StockImportError(Exception):
    """The file was refused; `errors` lists every problem found, in file order."""

    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} error(s); nothing was imported")
        self.errors = errors


@dataclass(frozen=True)
class VariantSummary:
    campaign: str
    variant: str
    lots: int
    units: int
    earliest: dt.datetime
    latest: dt.datetime
    new: int
    already_there: int


@dataclass
class ImportResult:
    created: int
    already_there: int
    dry_run: bool
    summary: list[VariantSummary] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    number: int
    variant: Variant
    quantity: int
    arrives_at: dt.datetime
    reference: str


def format_arrival(moment: dt.datetime) -> str:
    """Seoul time, as the supplier files write it."""
    return moment.astimezone(SEOUL).strftime(LOCAL_FORMAT)


def parse_arrival(text: str) -> dt.datetime | None:
    """ISO 8601 with an offset, or 'YYYY-MM-DD HH:MM' in Seoul time; None otherwise."""
    try:
        return dt.datetime.strptime(text, LOCAL_FORMAT).replace(tzinfo=SEOUL)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None  # a bare ISO time would be a guess between UTC and Seoul
    return moment


def _variant_label(model: str, capacity_gb: int, colour: str) -> str:
    return str(Variant(model_name=model, capacity_gb=capacity_gb, colour=colour))


def _key(model: str, capacity_gb: int, colour: str) -> tuple[str, int, str]:
    return (" ".join(model.split()).casefold(), capacity_gb, " ".join(colour.split()).casefold())


def _read_records(data: bytes, encoding: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(row number, values)]); blank lines and rows of empty cells are skipped."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise StockImportError(
            [
                f"the file is not {encoding} text (byte {exc.start + 1}); save it as UTF-8, "
                "or name its encoding (for example --encoding cp949 for a Korean Excel export)"
            ]
        ) from exc
    except LookupError as exc:
        raise StockImportError([f"unknown encoding '{encoding}'"]) from exc
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise StockImportError([f"the file is not valid CSV: {exc}"]) from exc
    numbered = [(number, values) for number, values in enumerate(records, start=1)]
    if not numbered or not any(v.strip() for v in numbered[0][1]):
        raise StockImportError(["the file is empty: a header row naming the columns is required"])
    header = [name.strip().lower() for name in numbered[0][1]]
    rows = [(n, values) for n, values in numbered[1:] if any(v.strip() for v in values)]
    return header, rows


def _check_header(header: list[str]) -> list[str]:
    errors = []
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        errors.append(
            "row 1: column(s) named more than once: " + ", ".join(f"'{d}'" for d in duplicates)
        )
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        errors.append(
            "row 1: missing column(s): "
            + ", ".join(f"'{m}'" for m in missing)
            + " (the header must name: "
            + ", ".join(COLUMNS)
            + ")"
        )
    return errors


def _load_variants(
    slugs: set[str],
) -> tuple[dict[str, Campaign], dict[tuple[str, tuple[str, int, str]], Variant]]:
    campaigns = {c.slug: c for c in Campaign.objects.filter(slug__in=slugs)}
    variants = {
        (v.campaign.slug, _key(v.model_name, v.capacity_gb, v.colour)): v
        for v in Variant.objects.filter(campaign__in=campaigns.values()).select_related("campaign")
    }
    return campaigns, variants


def _parse_rows(
    header: list[str], records: list[tuple[int, list[str]]]
) -> tuple[list[_Row], list[str]]:
    index = {name: header.index(name) for name in COLUMNS}
    width = len(header)
    errors: list[str] = []
    slugs = {
        values[index["campaign"]].strip()
        for _n, values in records
        if len(values) > index["campaign"]
    }
    campaigns, variants = _load_variants(slugs)
    rows: list[_Row] = []
    seen: dict[tuple[int, str], int] = {}

    for number, values in records:
        if len(values) != width:
            errors.append(
                f"row {number}: {len(values)} value(s), but the header has {width} column(s)"
            )
            continue
        cell = {name: values[i].strip() for name, i in index.items()}
        problems = [f"{name} is empty" for name in COLUMNS if not cell[name]]

        capacity = None
        if cell["capacity_gb"]:
            if WHOLE_NUMBER.fullmatch(cell["capacity_gb"]) and int(cell["capacity_gb"]) > 0:
                capacity = int(cell["capacity_gb"])
            else:
                problems.append(
                    f"capacity_gb must be a whole number of gigabytes above 0, "
                    f"not '{cell['capacity_gb']}'"
                )
        quantity = None
        if cell["quantity"]:
            text = cell["quantity"]
            if not WHOLE_NUMBER.fullmatch(text) or int(text) == 0:
                problems.append(f"quantity must be a whole number above 0, not '{text}'")
            elif int(text) > MAX_QUANTITY:
                problems.append(f"quantity {text} is too large (at most {MAX_QUANTITY:,})")
            else:
                quantity = int(text)
        arrives_at = None
        if cell["arrives_at"]:
            arrives_at = parse_arrival(cell["arrives_at"])
            if arrives_at is None:
                problems.append(
                    f"arrives_at '{cell['arrives_at']}' is not a date and time: write ISO 8601 "
                    "with an offset (2026-11-20T09:00+09:00) or 'YYYY-MM-DD HH:MM' (Seoul time)"
                )
        if len(cell["reference"]) > REFERENCE_MAX_LENGTH:
            problems.append(f"reference is longer than {REFERENCE_MAX_LENGTH} characters")

        variant = None
        slug = cell["campaign"]
        if slug and slug not in campaigns:
            problems.append(f"unknown campaign '{slug}'")
        elif slug and cell["model"] and cell["colour"] and capacity is not None:
            variant = variants.get((slug, _key(cell["model"], capacity, cell["colour"])))
            if variant is None:
                label = _variant_label(cell["model"], capacity, cell["colour"])
                problems.append(f"unknown variant '{label}' in campaign '{slug}'")

        if variant is not None and cell["reference"]:
            first = seen.setdefault((variant.pk, cell["reference"]), number)
            if first != number:
                problems.append(
                    f"reference '{cell['reference']}' for {variant} already appears in row {first}"
                )

        if problems:
            errors.extend(f"row {number}: {problem}" for problem in problems)
            continue
        if variant is None or quantity is None or arrives_at is None:  # pragma: no cover
            raise RuntimeError(f"row {number} was neither refused nor complete")
        rows.append(_Row(number, variant, quantity, arrives_at, cell["reference"]))
    return rows, errors


def _compare_with_recorded(rows: list[_Row]) -> tuple[list[_Row], set[int], list[str]]:
    """(rows to create, row numbers already there, errors for conflicting references)."""
    recorded = {
        (lot.variant_id, lot.reference): lot
        for lot in StockLot.objects.filter(
            variant__in={r.variant.pk for r in rows}, reference__in={r.reference for r in rows}
        )
    }
    new, there, errors = [], set(), []
    for row in rows:
        lot = recorded.get((row.variant.pk, row.reference))
        if lot is None:
            new.append(row)
        elif lot.quantity == row.quantity and lot.arrives_at == row.arrives_at:
            there.add(row.number)
        else:
            errors.append(
                f"row {row.number}: reference '{row.reference}' for {row.variant} is already "
                f"recorded with {lot.quantity:,} units arriving {format_arrival(lot.arrives_at)}"
                f"; this row says {row.quantity:,} units arriving "
                f"{format_arrival(row.arrives_at)}. A recorded lot is changed in the admin, "
                "not by importing it again"
            )
    return new, there, errors


def _summarise(rows: list[_Row], there: set[int]) -> list[VariantSummary]:
    by_variant: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        by_variant[row.variant.pk].append(row)
    summary = []
    for group in by_variant.values():
        variant = group[0].variant
        summary.append(
            VariantSummary(
                campaign=variant.campaign.slug,
                variant=str(variant),
                lots=len(group),
                units=sum(r.quantity for r in group),
                earliest=min(r.arrives_at for r in group),
                latest=max(r.arrives_at for r in group),
                new=sum(r.number not in there for r in group),
                already_there=sum(r.number in there for r in group),
            )
        )
    return sorted(
        summary,
        key=lambda s: (s.campaign, s.variant),
    )


def import_stock(
    *,
    data: bytes,
    actor: Actor,
    reference: str = "",
    encoding: str = "utf-8-sig",
    dry_run: bool = False,
) -> ImportResult:
    """Validate every row of the CSV `data` and record its new lots in one transaction.

    Raises StockImportError listing every problem (nothing is written) when any row is
    wrong. With dry_run nothing is written either, but the result says what would be. A
    real import is recorded in the operations log with `actor` and `reference` (the file).
    """
    header, records = _read_records(data, encoding)
    errors = _check_header(header)
    if errors:
        raise StockImportError(errors)
    if not records:
        raise StockImportError(["the file has a header but no stock lots"])

    rows, errors = _parse_rows(header, records)
    new, there, conflicts = _compare_with_recorded(rows)
    errors = sorted(errors + conflicts, key=_row_number)
    if errors:
        raise StockImportError(errors)

    lots = [
        StockLot(
            variant=row.variant,
            quantity=row.quantity,
            arrives_at=row.arrives_at,
            reference=row.reference,
        )
        for row in new
    ]
    for row, lot in zip(new, lots, strict=True):
        try:
            lot.clean_fields(exclude=["variant"])
        except ValidationError as exc:
            errors.extend(
                f"row {row.number}: {name}: {' '.join(messages)}"
                for name, messages in exc.message_dict.items()
            )
    if errors:
        raise StockImportError(errors)

    try:
        with transaction.atomic():
            StockLot.objects.bulk_create(lots)
            record_operation(
                action="fulfillment.import_stock",
                actor=actor,
                reference=reference,
                summary={"lots_created": len(lots), "already_there": len(there)},
            )
            if dry_run:
                transaction.set_rollback(True)
    except IntegrityError as exc:
        # Another import recorded one of these references between our check and our write.
        raise StockImportError(
            [
                "another import recorded some of these lots at the same time; nothing was "
                f"imported from this file. Run it again to see which rows are already there "
                f"({exc.__cause__ or exc})"
            ]
        ) from exc
    return ImportResult(
        created=len(lots),
        already_there=len(there),
        dry_run=dry_run,
        summary=_summarise(rows, there),
    )


def _row_number(message: str) -> int:
    match = re.match(r"row (\d+):", message)
    return int(match.group(1)) if match else 0
