"""Demo stock for the demo campaign (seed_demo): a first wave before launch, a second after."""

import datetime as dt

from reservations.models import Campaign

from .models import StockLot


def ensure_demo_lots(campaign: Campaign) -> int:
    """Two waves per variant, sized from its reservations so some wait for the second."""
    launch = dt.datetime.combine(campaign.launch_date, dt.time(0, 0), tzinfo=dt.UTC)
    waves = [
        ("W1", campaign.reservation_opens_at, 30),
        ("W2", launch + dt.timedelta(days=3), 20),
    ]
    created = 0
    for variant in campaign.variants.all():
        for wave, arrives_at, quantity in waves:
            _lot, made = StockLot.objects.get_or_create(
                variant=variant,
                reference=f"DEMO-{wave}-{variant.pk}",
                defaults={"quantity": quantity, "arrives_at": arrives_at},
            )
            created += made
    return created
