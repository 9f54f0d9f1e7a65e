from celery import shared_task
from django.utils import timezone

from reservations.models import Campaign

from . import allocation


@shared_task
def allocate_arrived_stock() -> int:
    """Beat: give arrived units to the next in line, per variant; returns units allocated."""
    now = timezone.now()
    campaigns = Campaign.objects.filter(variants__lots__arrives_at__lte=now).distinct()
    return sum(
        result.allocated
        for campaign in campaigns
        for result in allocation.allocate_campaign(campaign=campaign, now=now)
    )
