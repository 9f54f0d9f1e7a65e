from celery import shared_task

from . import services


@shared_task
def close_solved_tickets() -> int:
    """Beat: tickets solved more than 7 days ago are closed (a reply then starts a new
    ticket). Safe to repeat: a closed ticket is not solved any more."""
    return services.close_solved_tickets()
