from celery import shared_task

from . import services
from .services import breaches, callbacks


@shared_task
def close_solved_tickets() -> int:
    """Beat: tickets solved more than 7 days ago are closed (a reply then starts a new
    ticket). Safe to repeat: a closed ticket is not solved any more."""
    return services.close_solved_tickets()


@shared_task
def send_callback_reminders() -> int:
    """Beat, every minute: customers whose booked call begins within 10 minutes are
    reminded. Once per booking (support.services.callbacks.send_reminders)."""
    return callbacks.send_reminders()


@shared_task
def notify_sla_breaches() -> int:
    """Beat, every minute: the team lead is told of each missed SLA deadline, once
    (support.services.breaches)."""
    return breaches.notify_breaches()
