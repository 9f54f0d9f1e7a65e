"""Demo rate plans for the demo campaign (seed_demo)."""

from reservations.models import Campaign

from .models import RatePlan

DEMO_PLANS = [
    # name, monthly fee KRW, data GB (None = unlimited)
    ("5G 슬림 / 5G Slim", 55_000, 12),
    ("5G 베이직 / 5G Basic", 69_000, 110),
    ("5G 프리미엄 / 5G Premium", 89_000, None),
]


def ensure_demo_plans(campaign: Campaign) -> int:
    for name, fee, data in DEMO_PLANS:
        RatePlan.objects.update_or_create(
            campaign=campaign,
            name=name,
            defaults={"monthly_fee_krw": fee, "data_allowance_gb": data, "is_active": True},
        )
    return len(DEMO_PLANS)
