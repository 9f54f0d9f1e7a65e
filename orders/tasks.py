from celery import shared_task

from . import services


@shared_task
def expire_drafts() -> int:
    """Beat: drafts of campaigns whose order-form window has closed expire (customer told)."""
    return services.expire_drafts()
