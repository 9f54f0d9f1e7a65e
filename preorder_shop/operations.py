"""The operations log: each operator action records who ran it and what it changed, in the
transaction that did it (so a rolled-back or dry run leaves no record). Readable in admin.

Actions are dotted names, one per kind of operation: fulfillment.allocate,
fulfillment.festival_draw.commit, fulfillment.festival_draw.reveal,
fulfillment.import_stock, fulfillment.import_tracking."""

import datetime as dt
import getpass

from django.utils import timezone

from .actors import Actor
from .models import Operation


def record_operation(
    *,
    action: str,
    actor: Actor,
    summary: dict,
    reference: str = "",
    at: dt.datetime | None = None,
) -> Operation:
    return Operation.objects.create(
        action=action,
        reference=reference,
        at=at or timezone.now(),
        summary=summary,
        **Operation.fields_for(actor),
    )


def operator(name: str | None = None) -> Actor:
    """The operator running a command: the name given (--operator), else the OS user."""
    name = (name or "").strip()
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # no name for this uid (a bare container)
            name = "unknown"
    return Actor.operator(name[:100])
