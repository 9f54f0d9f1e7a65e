import time

from celery import shared_task

from . import kept_answers, outbox

SWEEP_BUDGET_SECONDS = 25  # under the 30 s beat interval; overlapping sweeps are safe anyway


@shared_task
def send_outbox_message(message_id: int) -> bool:
    """Send one outbox row after the commit that wrote it; a repeat run sends nothing."""
    return outbox.deliver(message_id)


@shared_task
def sweep_outbox() -> int:
    """Beat (and after a batch is queued): send whatever is due and pending, in rounds,
    until nothing is left or the time budget is spent."""
    started, sent = time.monotonic(), 0
    while time.monotonic() - started < SWEEP_BUDGET_SECONDS:
        tried = outbox.sweep()
        sent += tried
        if tried < outbox.SWEEP_BATCH:
            break
    return sent


@shared_task
def prune_kept_answers() -> tuple[int, int]:
    """Beat: forget kept answers past their lifetime and change marks past theirs
    (preorder_shop.kept_answers)."""
    return kept_answers.prune()
