from celery import shared_task
from django.conf import settings
from django.utils import timezone

from reservations.models import Campaign

from .services import allocation, pipeline, simulator, webhook_auth


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


@shared_task
def remind_before_deadline() -> int:
    """Beat: the last-day reminder to customers holding a unit without an order form."""
    now = timezone.now()
    campaigns = Campaign.objects.filter(
        order_closes_at__gt=now, order_closes_at__lte=now + allocation.REMINDER_WINDOW
    )
    return sum(allocation.remind_before_deadline(campaign=c, now=now) for c in campaigns)


@shared_task
def advance_pipeline() -> int:
    """Beat: one task per variant with ready orders, so variants move in parallel."""
    variant_ids = pipeline.variants_with_ready_orders()
    for variant_id in variant_ids:
        advance_variant.delay(variant_id)
    return len(variant_ids)


@shared_task(bind=True)
def advance_variant(self, variant_id: int) -> int:
    """Move the variant's ready orders to preparing in queue order. Idempotent: a repeat, a
    redelivery or a run after a killed worker continues from the lowest ready position."""
    return pipeline.advance_variant(
        variant_id=variant_id, worker=f"celery:{self.request.hostname}"
    )


@shared_task
def simulate_couriers() -> dict[str, int]:
    """Beat, development only (settings.COURIER_SIMULATOR): fake couriers hand over and
    deliver a bounded batch. Off, it does nothing, even when called by hand."""
    if not settings.COURIER_SIMULATOR:
        return {"handed_over": 0, "delivered": 0}
    result = simulator.run()
    return {"handed_over": result.handed_over, "delivered": result.delivered}


@shared_task
def prune_webhook_nonces() -> int:
    """Forget courier-webhook nonces older than any request that could still be accepted."""
    return webhook_auth.prune_webhook_nonces()
