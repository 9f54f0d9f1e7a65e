from celery import shared_task
from django.utils import timezone

from reservations.models import Campaign

from . import services


@shared_task
def close_order_windows() -> int:
    """Beat: at each campaign's order-form deadline, drafts expire and reservations that
    never submitted an order expire (customers told; held units go to the next in line)."""
    now = timezone.now()
    return sum(
        services.close_order_window(campaign=campaign, now=now)
        for campaign in Campaign.objects.filter(order_closes_at__lte=now)
    )
