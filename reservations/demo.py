"""The demo campaign: catalogue and synthetic reservations, used by seed_demo and benchmarks."""

import datetime as dt
import io
import random
import uuid

from django.db import connection, transaction
from django.utils import timezone

from preorder_shop.identifiers import RESERVATION_NUMBER

from .models import Campaign, Fulfilment, Reservation, Variant

DEMO_SLUG = "iphone-15-launch"
TITANIUM = ["Natural Titanium", "Blue Titanium", "White Titanium", "Black Titanium"]
CATALOGUE = {
    # model: ({capacity GB: price KRW}, colours, share of demand)
    "iPhone 15": (
        {128: 1_250_000, 256: 1_400_000, 512: 1_700_000},
        ["Black", "Blue", "Green", "Pink"],
        0.3,
    ),
    "iPhone 15 Pro": (
        {128: 1_550_000, 256: 1_700_000, 512: 2_000_000, 1024: 2_300_000},
        TITANIUM,
        0.45,
    ),
    "iPhone 15 Pro Max": ({256: 1_900_000, 512: 2_200_000, 1024: 2_500_000}, TITANIUM, 0.25),
}
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = [
    "민준",
    "서연",
    "도윤",
    "하은",
    "시우",
    "지우",
    "예준",
    "서윤",
    "주원",
    "지호",
    "수아",
    "하준",
]
SYNTHETIC_PHONE_PREFIX = "+82109"  # +82 10-9xxx-xxxx: a block the demo owns


def ensure_demo_campaign(*, now: dt.datetime | None = None) -> Campaign:
    """Create the demo campaign, or refresh its windows around `now`; never duplicates."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    campaign, _ = Campaign.objects.update_or_create(
        slug=DEMO_SLUG,
        defaults={
            "name": "iPhone 15 사전예약 / Pre-order",
            "device_line": "iPhone 15",
            "reservation_opens_at": now - dt.timedelta(days=1),
            "reservation_closes_at": now + dt.timedelta(days=3),
            "order_opens_at": now - dt.timedelta(hours=1),
            "order_closes_at": now + dt.timedelta(days=5),
            # The demo is set on launch day, so a person can follow an order all the way
            # to "delivered" (the embargo lifts at midnight) without waiting a week.
            "launch_date": today,
            "per_customer_limit": 1,
            "offers_courier": True,
            "offers_dawn_delivery": True,
            "offers_festival_pickup": True,
            "festival_capacity": 300,
        },
    )
    for model_name, (prices, colours, _share) in CATALOGUE.items():
        for capacity, price in prices.items():
            for colour in colours:
                Variant.objects.update_or_create(
                    campaign=campaign,
                    model_name=model_name,
                    capacity_gb=capacity,
                    colour=colour,
                    defaults={"price_krw": price},
                )
    return campaign


def synthetic_phone(index: int) -> str:
    return f"{SYNTHETIC_PHONE_PREFIX}{index:07d}"


def ensure_synthetic_reservations(campaign: Campaign, count: int, *, seed: int = 42) -> int:
    """Make synthetic customers 0..count-1 each hold one reservation; return how many were new.

    Bulk SQL and COPY; the reservation trigger draws queue positions in row order, so the
    ledger looks exactly as if they had reserved one after another.
    """
    if not 0 <= count <= 10_000_000:
        raise ValueError("count must be between 0 and 10,000,000")
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO preorder_shop_customer (phone, name, created_at)
            SELECT %s || lpad(i::text, 7, '0'),
                   substr(%s, 1 + i %% %s, 1) || (%s::text[])[1 + (i / %s) %% %s],
                   now()
            FROM generate_series(0, %s - 1) AS i
            ON CONFLICT (phone) DO NOTHING
            """,
            [
                SYNTHETIC_PHONE_PREFIX,
                SURNAMES,
                len(SURNAMES),
                GIVEN,
                len(SURNAMES),
                len(GIVEN),
                count,
            ],
        )
        cursor.execute(
            """
            SELECT c.id FROM preorder_shop_customer c
            WHERE c.phone = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM reservations_reservation r
                              WHERE r.customer_id = c.id AND r.campaign_id = %s)
            ORDER BY c.phone
            """,
            [[synthetic_phone(i) for i in range(count)], campaign.pk],
        )
        customer_ids = [row[0] for row in cursor.fetchall()]
    if not customer_ids:
        return 0

    variants = list(campaign.variants.all())
    shares = {name: share for name, (_p, _c, share) in CATALOGUE.items()}
    weights = [shares.get(v.model_name, 0.1) for v in variants]
    demand = {Fulfilment.COURIER: 0.75, Fulfilment.DAWN: 0.2, Fulfilment.FESTIVAL: 0.05}
    fulfilments = [value for value, _label in campaign.fulfilment_choices()]
    fulfilment_weights = [demand[value] for value in fulfilments]
    taken = set(Reservation.objects.values_list("number", flat=True))
    now = timezone.now()
    span = max(now - campaign.reservation_opens_at, dt.timedelta(seconds=1))

    with transaction.atomic(), connection.cursor() as cursor:
        # The trigger draws each row's position from the sequence as COPY inserts it, so
        # positions follow the order of the rows, as if they had reserved one by one.
        buffer = io.StringIO()
        for i, customer_id in enumerate(customer_ids):
            number = RESERVATION_NUMBER.generate()
            while number in taken:
                number = RESERVATION_NUMBER.generate()
            taken.add(number)
            variant = rng.choices(variants, weights)[0]
            fulfilment = rng.choices(fulfilments, fulfilment_weights)[0]
            created = campaign.reservation_opens_at + span * (i / len(customer_ids))
            buffer.write(
                f"{campaign.pk}\t{variant.pk}\t{customer_id}\t{fulfilment}\t{number}\t"
                f"1\tactive\t{uuid.uuid4()}\t{created.isoformat()}\t\n"
            )
        buffer.seek(0)
        raw = cursor.cursor  # psycopg cursor underneath Django's wrapper
        with raw.copy(
            "COPY reservations_reservation (campaign_id, variant_id, customer_id, fulfilment,"
            " number, slot, status, idempotency_key, created_at, cancelled_by)"
            " FROM STDIN"
        ) as copy:
            copy.write(buffer.getvalue())
    return len(customer_ids)
