"""Orders in any state, made the only way the database allows: through the state machine."""

import secrets

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from fulfillment.models import Allocation, FestivalDraw, StockLot
from fulfillment.services import moves
from fulfillment.services.lottery import commitment
from orders import services
from orders.models import JoinType, Order, OrderStatus, RatePlan
from preorder_shop.tests.factories import CustomerFactory
from reservations.models import Campaign
from reservations.tests.factories import CampaignFactory, ReservationFactory

S = OrderStatus


class RatePlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RatePlan

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"5G Plan {n}")
    monthly_fee_krw = 69_000
    data_allowance_gb = 110


class DraftFactory(factory.django.DjangoModelFactory):
    """A draft order form of a fresh reservation (campaign's order window open)."""

    class Meta:
        model = Order

    reservation = factory.SubFactory(ReservationFactory)


COMPLETE_ANSWERS = {
    "join_type": JoinType.NEW_LINE,
    "recipient_name": "홍길동",
    "recipient_phone": "+821012345678",
    "postcode": "04524",
    "address_line1": "서울특별시 중구 세종대로 110",
}


def complete_answers(order: Order) -> dict:
    plan = RatePlanFactory(campaign=order.reservation.campaign)
    return {**COMPLETE_ANSWERS, "plan": plan}


def staff_user(username: str = "ops"):
    user, _ = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True}
    )
    return user


SHIPPING = {"courier": "CJ", "tracking_number": "123456789012"}


def _prepare(order: Order) -> Order:
    return moves.start_preparing(order=order, actor=services.Actor.worker("test-worker"))


def _ship(order: Order) -> Order:
    return moves.hand_over(
        order=order, actor=services.Actor.courier("test-courier"), **SHIPPING
    ).order


def _deliver(order: Order) -> Order:
    return moves.confirm_delivery(order=order, actor=services.Actor.courier("test-courier")).order


# The forward moves from received to each status, through fulfilment's doors.
PATH = {
    S.PREPARING: [_prepare],
    S.SHIPPED: [_prepare, _ship],
    S.DELIVERED: [_prepare, _ship, _deliver],
}


def order_in(status: str, **draft_kwargs) -> Order:
    """An order brought to `status` through the real services (history and outbox rows too)."""
    order = DraftFactory(**draft_kwargs)
    customer = order.reservation.customer
    if status == S.DRAFT:
        return order
    if status == S.DISCARDED:
        return services.discard_draft(order=order, customer=customer)
    if status == S.EXPIRED:
        return services.transition(order=order, to=S.EXPIRED, actor=services.Actor.worker("t"))
    order = services.submit_order(order=order, customer=customer, values=complete_answers(order))
    if status == S.CANCELLED:
        return services.transition(order=order, to=S.CANCELLED, actor=services.Actor.customer())
    if status in PATH:
        give_unit(order.reservation)
    for move in PATH.get(status, []):
        order = move(order)
    return order


def order_of(phone: str, name: str, status: str = S.RECEIVED) -> Order:
    """An order in `status` of a new customer with this phone number and name."""
    customer = CustomerFactory(phone=phone, name=name)
    return order_in(status, reservation=ReservationFactory(customer=customer))


def give_unit(reservation) -> Allocation:
    """A unit of the reservation's variant, from a lot of its own: the database lets no
    order start preparing without one (fulfillment migration 0008)."""
    lot = StockLot.objects.create(
        variant=reservation.variant,
        quantity=1,
        arrives_at=timezone.now(),
        reference=f"UNIT-{reservation.number}",
    )
    return Allocation.objects.create(
        variant=reservation.variant, reservation=reservation, lot=lot, allocated_at=timezone.now()
    )


def publish_festival_draw(campaign) -> FestivalDraw:
    """A published (revealed) festival draw for `campaign`, without entries: festival-pickup
    order forms may then be submitted. The lottery itself is tested in fulfillment."""
    seed = secrets.token_hex(32)
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(festival_draw_published_at=now)
    return FestivalDraw.objects.create(
        campaign=campaign, seed_hash=commitment(seed), seed=seed, revealed_at=now
    )
