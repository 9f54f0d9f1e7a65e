"""A stateful property test of the order lifecycle.

Hypothesis drives a few orders through random sequences of the customer's, staff's, the
pipeline's and the courier's actions (and retries of each), against a small Python model of
what each order's status should be. After every step the database must agree with the model
and with itself: status and history agree, the history is a connected path through the
transition table, nothing is shipped without its predecessors, one live order per
reservation, one notification per history row, and the reservation follows its order. The
delivery address changes only while the order is received: each change one history row and
one notification, and the order's address is its last change's.

Each example runs inside its own savepoint (entered in __init__, rolled back in teardown), so
examples never see each other's rows; on_commit callbacks never run (nothing commits).
"""

import contextlib
import datetime as dt
import itertools
from collections import Counter

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from orders import services
from orders.exceptions import (
    ActorNotAllowed,
    AddressNotChangeable,
    IllegalTransition,
    InvalidAddress,
    OrderNotCancellable,
    ReasonRequired,
    ReservationNotActive,
    ShippingDetailsRequired,
)
from orders.models import ADDRESS_FIELDS, Order, OrderAddressChange, OrderStatus, OrderTransition
from orders.services import TRANSITIONS, Actor
from orders.tests.factories import DraftFactory, complete_answers, give_unit, staff_user
from preorder_shop.actors import ActorKind
from preorder_shop.exceptions import DomainError
from preorder_shop.models import OutboxMessage
from reservations.exceptions import NotCancellable
from reservations.models import Reservation, ReservationStatus

S = OrderStatus
MAX_ORDERS = 3
LIVE = {S.DRAFT, S.RECEIVED, S.PREPARING, S.SHIPPED, S.DELIVERED}
ORDERED = {S.RECEIVED, S.PREPARING, S.SHIPPED, S.DELIVERED}
# The next forward move and who normally makes it (the fulfilment pipeline, the courier).
NEXT = {
    S.RECEIVED: (S.PREPARING, ActorKind.WORKER),
    S.PREPARING: (S.SHIPPED, ActorKind.COURIER),
    S.SHIPPED: (S.DELIVERED, ActorKind.COURIER),
}
SHIPPING = {"courier": "CJ대한통운", "tracking_number": "564738291023"}
REASONS = st.sampled_from(["", "  ", "고객 요청", "out of stock"])
NEW_ADDRESS = {
    "recipient_name": "김영희",
    "recipient_phone": "+821098765432",
    "postcode": "06236",
    "address_line1": "서울특별시 강남구 테헤란로 152",
    "address_line2": "12층",
    "delivery_note": "",
}
# A new address, another one, and one with a postcode the order form refuses.
ADDRESSES = st.sampled_from(
    [NEW_ADDRESS, {**NEW_ADDRESS, "address_line2": "13층"}, {**NEW_ADDRESS, "postcode": "12"}]
)
ADDRESS_NOTICE = "order.address_changed"


class Refused(Exception):
    """The model's expectation that the service refuses with `kind`."""

    def __init__(self, kind: type[DomainError]) -> None:
        self.kind = kind


def expected_move(status: str, to: str, kind: str, reason: str, shipping: bool) -> str:
    """What the transition table says should happen: the new status, or Refused."""
    if status == to:
        return status  # a retry: nothing happens
    move = TRANSITIONS.get((status, to))
    if move is None:
        raise Refused(IllegalTransition)
    if kind not in move.actors:
        raise Refused(ActorNotAllowed)
    if kind in move.reason_from and not reason.strip():
        raise Refused(ReasonRequired)
    if to == S.SHIPPED and not shipping:
        raise Refused(ShippingDetailsRequired)
    return to


class OrderLifecycle(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        self.status: dict[int, str] = {}  # order pk -> expected status
        self.reservation_of: dict[int, int] = {}  # order pk -> reservation pk
        self.reservation_status: dict[int, str] = {}  # reservation pk -> expected status
        self.closes_at: dict[int, dt.datetime] = {}  # order pk -> its order window's end
        self.answers: dict[int, dict] = {}  # reservation pk -> complete form answers
        self.staff = staff_user("lifecycle-ops")

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)

    # Helpers.

    def _track(self, order: Order) -> Order:
        self.status[order.pk] = order.status
        self.reservation_of[order.pk] = order.reservation_id
        self.reservation_status.setdefault(order.reservation_id, order.reservation.status)
        self.closes_at[order.pk] = order.reservation.campaign.order_closes_at
        return order

    def _live_order_of(self, reservation_pk: int) -> int | None:
        live = [
            pk
            for pk, status in self.status.items()
            if self.reservation_of[pk] == reservation_pk and status in LIVE
        ]
        assert len(live) <= 1
        return live[0] if live else None

    def _set(self, pk: int, status: str) -> None:
        """The model's side effects of an order reaching `status`."""
        old, self.status[pk] = self.status[pk], status
        reservation = self.reservation_of[pk]
        if status == S.RECEIVED and old != S.RECEIVED:
            self.reservation_status[reservation] = ReservationStatus.ORDERED
        if status == S.CANCELLED:
            self.reservation_status[reservation] = ReservationStatus.CANCELLED

    def _rows(self) -> tuple[int, int]:
        return OrderTransition.objects.count(), OutboxMessage.objects.count()

    def _attempt(self, call, expect, retry: bool) -> None:
        """Run `call` against the model's `expect` (a callable returning what it applies, or
        raising Refused); on `retry` run it once more and check the repeat changed nothing."""
        try:
            apply = expect()
            refusal = None
        except Refused as refused:
            apply, refusal = None, refused.kind
        if refusal is None:
            call()
            apply()
        else:
            before = self._db_state()
            with pytest.raises(refusal):
                call()
            assert self._db_state() == before, "a refusal changed something"
        if retry:
            self._check_repeat_changes_nothing(call)

    def _check_repeat_changes_nothing(self, call) -> None:
        state = self._db_state()
        with contextlib.suppress(DomainError):  # refusing a repeat is fine; changing is not
            call()
        assert self._db_state() == state, "a retried call changed something"

    def _db_state(self) -> tuple:
        return (
            sorted(Order.objects.values_list("pk", "status", "number", "updated_at")),
            sorted(Reservation.objects.values_list("pk", "status", "cancelled_at")),
            *self._rows(),
        )

    # Rules.

    @initialize(target=orders)
    def first_order(self) -> Order:
        return self.start_order()

    @precondition(lambda self: len(self.status) < MAX_ORDERS)
    @rule(target=orders)
    def start_order(self) -> Order:
        order = self._track(DraftFactory())
        self.answers[order.reservation_id] = complete_answers(order)
        return order

    @precondition(
        lambda self: (
            len(self.status) < MAX_ORDERS + 2
            and any(status not in LIVE for status in self.status.values())
        )
    )
    @rule(target=orders, order=orders)
    def write_order_form_again(self, order: Order):
        """The reservation page's "Write order form": the live order, or a new draft if the
        reservation is still active and its last form was discarded or expired."""
        reservation = Reservation.objects.get(pk=order.reservation_id)
        live = self._live_order_of(reservation.pk)
        if live is None and self.reservation_status[reservation.pk] != ReservationStatus.ACTIVE:
            with pytest.raises(ReservationNotActive):
                services.open_draft(reservation=reservation, customer=reservation.customer)
            return multiple()
        opened = services.open_draft(reservation=reservation, customer=reservation.customer)
        if live is not None:
            assert opened.pk == live
            return multiple()
        assert opened.status == S.DRAFT
        return self._track(opened)

    @rule(order=orders, retry=st.booleans())
    def submit(self, order: Order, retry: bool) -> None:
        customer = order.reservation.customer
        answers = self.answers[order.reservation_id]

        def expect():
            status = self.status[order.pk]
            if status in (S.DISCARDED, S.EXPIRED):
                raise Refused(IllegalTransition)
            return lambda: self._set(order.pk, S.RECEIVED if status == S.DRAFT else status)

        def call():
            result = services.submit_order(order=order, customer=customer, values=answers)
            assert result.pk == order.pk
            holds = result.reservation.allocations.filter(released_at__isnull=True).exists()
            if result.status == S.RECEIVED and not holds:
                give_unit(result.reservation)  # without one, preparing is refused (0008)

        self._attempt(call, expect, retry)

    # Cancelling, by the customer (two doors) or staff, is one rule, and so are the two ends
    # of a draft: Hypothesis picks rules evenly, and this keeps the moves that end an order
    # from crowding out the ones that carry it to delivery.

    @rule(
        order=orders,
        by=st.sampled_from(["customer:cancel_by_customer", "customer:transition", "staff"]),
        reason=REASONS,
        retry=st.booleans(),
    )
    def cancel(self, order: Order, by: str, reason: str, retry: bool) -> None:
        if by == "staff":
            self.cancel_as_staff(order, reason, retry)
        else:
            self.cancel_as_customer(order, by.removeprefix("customer:"), retry)

    @rule(order=orders, how=st.sampled_from(["discard", "expire"]), retry=st.booleans())
    def end_draft(self, order: Order, how: str, retry: bool) -> None:
        if how == "discard":
            self.discard(order, retry)
        else:
            self.expire_drafts(order, retry)

    def cancel_as_customer(self, order: Order, door: str, retry: bool) -> None:
        reservation = order.reservation
        if door == "transition":
            self._transition(order, S.CANCELLED, Actor.customer(), "", retry=retry)
            return

        def expect():
            live = self._live_order_of(reservation.pk)
            if live is None:
                if self.reservation_status[reservation.pk] != ReservationStatus.ACTIVE:
                    raise Refused(NotCancellable)
                return lambda: self.reservation_status.update(
                    {reservation.pk: ReservationStatus.CANCELLED}
                )
            status = self.status[live]
            if status not in (S.DRAFT, S.RECEIVED):
                raise Refused(OrderNotCancellable)

            def apply():
                self._set(live, S.DISCARDED if status == S.DRAFT else S.CANCELLED)
                self.reservation_status[reservation.pk] = ReservationStatus.CANCELLED

            return apply

        def call():
            services.cancel_by_customer(reservation=reservation, customer=reservation.customer)

        self._attempt(call, expect, retry)

    def cancel_as_staff(self, order: Order, reason: str, retry: bool) -> None:
        self._transition(order, S.CANCELLED, Actor.staff(self.staff), reason, retry=retry)

    @rule(
        order=orders,
        steps=st.integers(1, 4),
        # Mostly the pipeline and the courier, sometimes staff or (refused) the customer;
        # mostly with the shipping details, sometimes (refused) without.
        by=st.sampled_from([None, None, None, ActorKind.STAFF, ActorKind.CUSTOMER]),
        reason=REASONS,
        shipping=st.sampled_from([True, True, True, False]),
        retry=st.booleans(),
    )
    def advance(
        self, order: Order, steps: int, by, reason: str, shipping: bool, retry: bool
    ) -> None:
        """The next forward move(s): a draft is submitted; a submitted order moves on by the
        pipeline/courier (by=None) or by someone else; from a status with no forward move,
        an attempt to start preparation (refused)."""
        for _step in range(steps):
            if self.status[order.pk] == S.DRAFT:
                self.submit(order, retry)  # a draft's next forward move
                continue
            to, kind = NEXT.get(self.status[order.pk], (S.PREPARING, ActorKind.WORKER))
            actor = {
                ActorKind.WORKER: Actor.worker("pipeline-1"),
                ActorKind.COURIER: Actor.courier("CJ webhook"),
                ActorKind.STAFF: Actor.staff(self.staff),
                ActorKind.CUSTOMER: Actor.customer(),
            }[by or kind]
            self._transition(order, to, actor, reason, shipping=shipping, retry=retry)

    def discard(self, order: Order, retry: bool) -> None:
        customer = order.reservation.customer

        def expect():
            return self._apply_for(order.pk, S.DISCARDED, ActorKind.CUSTOMER, "", True)

        def call():
            services.discard_draft(order=order, customer=customer)

        self._attempt(call, expect, retry)

    def expire_drafts(self, order: Order, retry: bool) -> None:
        """The beat task at the end of this order's campaign window: every draft of a
        campaign closed by then expires."""
        now = self.closes_at[order.pk]
        due = [
            pk
            for pk, status in self.status.items()
            if status == S.DRAFT and self.closes_at[pk] <= now
        ]

        def expect():
            def apply():
                for pk in due:
                    self._set(pk, S.EXPIRED)

            return apply

        def call():
            assert services.expire_drafts(now=now) == len(due)

        self._attempt(call, expect, retry=False)
        if retry:
            self._check_repeat_changes_nothing(lambda: services.expire_drafts(now=now))

    @rule(
        order=orders,
        address=ADDRESSES,
        by=st.sampled_from([ActorKind.CUSTOMER, ActorKind.STAFF]),
        retry=st.booleans(),
    )
    def change_address(self, order: Order, address: dict, by: str, retry: bool) -> None:
        actor = Actor.customer() if by == ActorKind.CUSTOMER else Actor.staff(self.staff)

        def expect():
            if self.status[order.pk] != S.RECEIVED:
                raise Refused(AddressNotChangeable)
            if address["postcode"] == "12":
                raise Refused(InvalidAddress)
            return lambda: None  # the status stays; the invariants check the address

        def call():
            services.change_delivery_address(
                order=order, actor=actor, reason="고객 요청", **address
            )

        self._attempt(call, expect, retry)

    def _apply_for(self, pk: int, to: str, kind: str, reason: str, shipping: bool):
        new = expected_move(self.status[pk], to, kind, reason, shipping)
        return lambda: self._set(pk, new)

    def _transition(
        self,
        order: Order,
        to: str,
        actor: Actor,
        reason: str,
        *,
        shipping: bool = True,
        retry: bool,
    ) -> None:
        details = SHIPPING if shipping else {}

        def expect():
            return self._apply_for(order.pk, to, actor.kind, reason, shipping)

        def call():
            result = services.transition(order=order, to=to, actor=actor, reason=reason, **details)
            assert result.status == self.status[order.pk] or result.status == to

        self._attempt(call, expect, retry)

    # Invariants, checked after every step.

    @invariant()
    def statuses_match_the_model(self) -> None:
        actual = dict(Order.objects.filter(pk__in=list(self.status)).values_list("pk", "status"))
        assert actual == self.status

    @invariant()
    def history_is_a_connected_path_through_the_table(self) -> None:
        rows: dict[int, list] = {pk: [] for pk in self.status}
        for row in OrderTransition.objects.filter(order__in=list(self.status)).order_by("pk"):
            rows[row.order_id].append(row)
        for pk, status in self.status.items():
            steps = rows[pk]
            if not steps:
                assert status == S.DRAFT, (pk, status)
                continue
            assert steps[0].from_status == S.DRAFT
            for prev, step in itertools.pairwise(steps):
                assert step.from_status == prev.to_status
                assert step.at >= prev.at
            for step in steps:
                assert (step.from_status, step.to_status) in TRANSITIONS
                assert step.actor_kind in TRANSITIONS[(step.from_status, step.to_status)].actors
            assert steps[-1].to_status == status
            reached = {step.to_status for step in steps}
            if status in (S.SHIPPED, S.DELIVERED):
                assert {S.RECEIVED, S.PREPARING, S.SHIPPED} <= reached
            if status == S.DELIVERED:
                assert S.DELIVERED in reached

    @invariant()
    def one_live_order_per_reservation(self) -> None:
        live = Counter(Order.objects.live().values_list("reservation_id", flat=True))
        assert all(count == 1 for count in live.values()), live

    @invariant()
    def one_notification_per_history_row(self) -> None:
        expected = Counter(
            (f"order:{order_id}", f"order.{to}")
            for order_id, to in OrderTransition.objects.filter(
                order__in=list(self.status)
            ).values_list("order_id", "to_status")
        )
        actual = Counter(
            OutboxMessage.objects.filter(reference__in=[f"order:{pk}" for pk in self.status])
            .exclude(template_key=ADDRESS_NOTICE)
            .values_list("reference", "template_key")
        )
        assert actual == expected

    @invariant()
    def the_address_is_its_last_change_made_while_received(self) -> None:
        for order in Order.objects.filter(pk__in=list(self.status), status__in=ORDERED):
            rows = list(OrderAddressChange.objects.filter(order=order))
            submitted = self.answers[order.reservation_id]
            expected = (
                rows[-1].after if rows else {n: submitted.get(n, "") for n in ADDRESS_FIELDS}
            )
            assert {name: getattr(order, name) for name in ADDRESS_FIELDS} == expected
            assert all(row.at >= order.submitted_at for row in rows)
            assert order.preparing_at is None or all(row.at <= order.preparing_at for row in rows)
            notices = OutboxMessage.objects.filter(
                reference=f"order:{order.pk}", template_key=ADDRESS_NOTICE
            )
            assert notices.count() == len(rows)

    @invariant()
    def reservation_follows_its_order(self) -> None:
        actual = dict(
            Reservation.objects.filter(pk__in=list(self.reservation_status)).values_list(
                "pk", "status"
            )
        )
        assert actual == self.reservation_status
        for pk, status in self.status.items():
            reservation = actual[self.reservation_of[pk]]
            if status in ORDERED:
                assert reservation == ReservationStatus.ORDERED, (status, reservation)
            if status == S.CANCELLED:
                assert reservation == ReservationStatus.CANCELLED, (status, reservation)
            if status == S.DRAFT:
                assert reservation == ReservationStatus.ACTIVE, (status, reservation)


LIFECYCLE_SETTINGS = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.django_db
def test_order_lifecycle() -> None:
    run_state_machine_as_test(OrderLifecycle, settings=LIFECYCLE_SETTINGS)
