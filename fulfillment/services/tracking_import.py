"""A courier's tracking file, applied all or nothing: every row parsed and recorded through
couriers.record_courier_event, in the order things happened (a hand-over before its
delivery), in one transaction; any bad row and nothing stays. A real import is recorded in
the operations log."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from preorder_shop.actors import Actor
from preorder_shop.operations import record_operation

from ..models import CourierEventKind, CourierEventSource
from . import courier_input, couriers


@dataclass(frozen=True)
class TrackingImport:
    rows: int
    counts: Counter = field(default_factory=Counter)  # handed_over, delivered, confirmed, ...
    errors: list[str] = field(default_factory=list)  # "line N: ..." in line order
    dry_run: bool = False


def import_tracking(
    *,
    rows: Iterable[tuple[int, dict]],
    actor: Actor,
    reference: str = "",
    dry_run: bool = False,
) -> TrackingImport:
    """Apply (line number, row) pairs of a tracking file. Nothing changes when any row is
    refused (the result lists every refusal) or with dry_run."""
    rows = list(rows)
    errors: list[tuple[int, str]] = []
    parsed: list[tuple[int, courier_input.CourierInput]] = []
    for line, row in rows:
        try:
            parsed.append((line, courier_input.parse_input(row)))
        except courier_input.CourierError as error:
            errors.append((line, error.message))
    parsed.sort(
        key=lambda item: (item[1].occurred_at, item[1].kind != CourierEventKind.HANDED_OVER)
    )
    counts: Counter[str] = Counter()
    now = timezone.now()
    with transaction.atomic():
        for line, data in parsed:
            try:
                result = couriers.record_courier_event(
                    data=data, source=CourierEventSource.FILE, now=now
                )
            except courier_input.CourierError as error:
                errors.append((line, error.message))
                continue
            counts[_bucket(result)] += 1
        if errors or dry_run:
            transaction.set_rollback(True)  # nothing stays, nothing is sent
        else:
            record_operation(
                action="fulfillment.import_tracking",
                actor=actor,
                reference=reference,
                summary={"rows": len(rows), **counts},
                at=now,
            )
    return TrackingImport(
        rows=len(rows),
        counts=counts,
        errors=[f"line {line}: {message}" for line, message in sorted(errors)],
        dry_run=dry_run,
    )


def _bucket(result: couriers.CourierResult) -> str:
    if result.outcome == couriers.Outcome.RECORDED:
        return str(result.event.kind)
    return result.outcome.value
