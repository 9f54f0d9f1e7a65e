from celery import shared_task

from . import outbox


@shared_task
def send_outbox_message(message_id: int) -> bool:
    """Send one outbox row after the commit that wrote it; a repeat run sends nothing."""
    return outbox.deliver(message_id)


@shared_task
def sweep_outbox() -> int:
    """Beat: send whatever is due and pending (lost tasks, broker outages, retries)."""
    return outbox.sweep()
