"""The order state machine: the service's table, the actor rules, and the database's own
refusals (triggers), which must allow exactly the moves the service's table allows."""

import contextlib
import datetime as dt
import itertools
import threading

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from orders import services
from orders.exceptions import (
    ActorNotAllowed,
    IllegalTransition,
    OrderNotCancellable,
    ReasonRequired,
    ShippingDetailsRequired,
)
from orders.models import Order, OrderStatus, OrderTransition
from orders.services import TRANSITIONS, Actor
from orders.tests.factories import (
    DraftFactory,
    complete_answers,
    give_unit,
    order_in,
    staff_user,
)
from preorder_shop.actors import ActorKind
from preorder_shop.exceptions import DomainError
from preorder_shop.identifiers import ORDER_NUMBER
from preorder_shop.models import OutboxMessage
from reservations import services as reservation_services
from reservations.exceptions import NotCancellable
from reservations.models import CancelledBy, Reservation, ReservationStatus
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory

pytestmark = pytest.mark.django_db

S = OrderStatus
STAMPS = ["submitted_at", "preparing_at", "shipped_at", "delivered_at", "closed_at"]
SHIPPING = {"courier": "CJ대한통운", "tracking_number": "564738291023"}
LEGAL = [
    (frm, to, kind) for (frm, to), move in TRANSITIONS.items() for kind in sorted(move.actors)
]
ILLEGAL = [
    (frm, to) for frm, to in itertools.permutations(S.values, 2) if (frm, to) not in TRANSITIONS
]


def constraint_of(exc: IntegrityError) -> str | None:
    return exc.__cause__.diag.constraint_name


def actor_of(kind: str) -> Actor:
    return {
        ActorKind.CUSTOMER: Actor.customer,
        ActorKind.STAFF: lambda: Actor.staff(staff_user()),
        ActorKind.WORKER: lambda: Actor.worker("pipeline-7"),
        ActorKind.COURIER: lambda: Actor.courier("CJ webhook"),
        ActorKind.OPERATOR: lambda: Actor.operator("ops on call"),
    }[kind]()


def raw(sql: str, params: list) -> None:
    """One raw statement in its own savepoint, as any other writer could send it."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def history(order: Order) -> list[OrderTransition]:
    return list(OrderTransition.objects.filter(order=order).order_by("pk"))


def outbox(order: Order) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(reference=f"order:{order.pk}").order_by("pk"))


def snapshot(order: Order) -> tuple:
    """Everything a transition could touch, to show that a refusal or a retry changed nothing."""
    order = Order.objects.get(pk=order.pk)
    reservation = Reservation.objects.get(pk=order.reservation_id)
    return (
        order.status,
        order.number,
        order.courier,
        order.tracking_number,
        order.updated_at,
        *(getattr(order, stamp) for stamp in STAMPS),
        reservation.status,
        reservation.cancelled_at,
        reservation.cancelled_by,
        len(history(order)),
        len(outbox(order)),
    )


# Every legal move, by every actor allowed to make it.


def movable_from(status: str) -> Order:
    """An order in `status` that may make any move the table allows: a received order also
    holds its unit, without which the database refuses preparing (fulfillment 0008)."""
    order = order_in(status)
    if status == S.RECEIVED:
        give_unit(order.reservation)
    return order


@pytest.mark.parametrize(("frm", "to", "kind"), LEGAL)
def test_legal_transition_writes_status_stamp_history_and_one_notification(frm, to, kind):
    order = movable_from(frm)
    before = Order.objects.get(pk=order.pk)
    history_before, outbox_before = len(history(order)), len(outbox(order))
    move = TRANSITIONS[(frm, to)]
    actor = actor_of(kind)
    reason = "고객 요청 (customer called)" if kind in move.reason_from else ""
    extra = SHIPPING if to == S.SHIPPED else {}
    now = timezone.now() + dt.timedelta(minutes=7)

    result = services.transition(order=order, to=to, actor=actor, reason=reason, now=now, **extra)

    order.refresh_from_db()
    assert result.status == order.status == to
    assert getattr(order, move.stamp) == now
    for stamp in set(STAMPS) - {move.stamp}:
        assert getattr(order, stamp) == getattr(before, stamp), stamp
    assert order.updated_at == now

    rows = history(order)
    assert len(rows) == history_before + 1
    row = rows[-1]
    assert (row.from_status, row.to_status, row.at) == (frm, to, now)
    assert row.actor_kind == kind
    assert row.actor_user == actor.user
    assert row.actor_label == actor.label
    assert row.reason == reason

    messages = outbox(order)
    assert len(messages) == outbox_before + 1
    new = [m for m in messages if m.template_key == f"order.{to}"]
    assert len(new) == 1
    assert new[0].idempotency_key == f"order:{order.pk}:{to}"
    assert new[0].recipient == order.reservation.customer.phone
    assert new[0].payload["order_number"] == order.number
    if to == S.SHIPPED:
        assert (order.courier, order.tracking_number) == (
            SHIPPING["courier"],
            SHIPPING["tracking_number"],
        )
        assert new[0].payload["tracking_number"] == SHIPPING["tracking_number"]

    # A retried request (same move, same actor, later) changes nothing and writes nothing.
    after = snapshot(order)
    again = services.transition(
        order=order, to=to, actor=actor, reason=reason, now=now + dt.timedelta(hours=1), **extra
    )
    assert again.status == to
    assert snapshot(order) == after


def test_legal_table_covers_every_actor_rule_of_the_issue():
    """The table itself: staff always give a reason, customers never touch forward moves,
    nobody cancels after shipping."""
    for (frm, to), move in TRANSITIONS.items():
        if ActorKind.STAFF in move.actors:
            assert ActorKind.STAFF in move.reason_from, (frm, to)
        assert move.reason_from <= move.actors, (frm, to)
        if to in (S.PREPARING, S.SHIPPED, S.DELIVERED):
            assert ActorKind.CUSTOMER not in move.actors, (frm, to)
    assert {frm for frm, to in TRANSITIONS if to == S.CANCELLED} == {S.RECEIVED, S.PREPARING}
    assert services.allowed_targets(S.RECEIVED, ActorKind.CUSTOMER) == [S.CANCELLED]
    assert services.allowed_targets(S.PREPARING, ActorKind.CUSTOMER) == []
    assert services.allowed_targets(S.SHIPPED, ActorKind.STAFF) == [S.DELIVERED]


# Every illegal move: refused by the service, and separately by the database.


@pytest.mark.parametrize(("frm", "to"), ILLEGAL)
def test_illegal_transition_is_refused_by_the_service_for_every_actor(frm, to):
    order = order_in(frm)
    before = snapshot(order)
    for kind in ActorKind.values:
        with pytest.raises(IllegalTransition):
            services.transition(
                order=order, to=to, actor=actor_of(kind), reason="because", **SHIPPING
            )
        assert snapshot(order) == before


@pytest.mark.parametrize(("frm", "to"), ILLEGAL)
def test_illegal_transition_is_refused_by_the_database(frm, to):
    order = order_in(frm)
    before = snapshot(order)
    with pytest.raises(IntegrityError) as refused:
        raw("UPDATE orders_order SET status = %s WHERE id = %s", [to, order.pk])
    assert constraint_of(refused.value) == "order_transition_allowed"
    assert snapshot(order) == before


def _fields_for(to: str) -> dict:
    """What a raw writer must set with the status so that the row's CHECK constraints hold;
    only the BEFORE trigger's verdict on the move itself is under test."""
    now = timezone.now()
    if to == S.RECEIVED:
        return {"number": ORDER_NUMBER.generate(), "submitted_at": now}
    if to == S.SHIPPED:
        return {**SHIPPING, "shipped_at": now}
    if to == S.DELIVERED:
        return {"delivered_at": now}
    return {}


@pytest.mark.parametrize(("frm", "to"), list(TRANSITIONS))
def test_database_allows_exactly_the_services_moves(frm, to):
    """With the illegal-pair test above, this makes the trigger's set equal to TRANSITIONS:
    every pair in the table passes the BEFORE trigger (then the savepoint is rolled back)."""
    order = movable_from(frm)
    fields = {"status": to, **_fields_for(to)}
    assignments = ", ".join(f"{name} = %s" for name in fields)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE orders_order SET {assignments} WHERE id = %s",  # noqa: S608
                [*fields.values(), order.pk],
            )
            assert cursor.rowcount == 1
        assert Order.objects.get(pk=order.pk).status == to
        transaction.set_rollback(True)
    assert Order.objects.get(pk=order.pk).status == frm


@pytest.mark.parametrize(("frm", "to"), list(TRANSITIONS))
def test_database_requires_the_history_row_of_a_raw_move(frm, to):
    """The deferred trigger fires at commit; SET CONSTRAINTS ALL IMMEDIATE brings it forward
    inside the test's transaction. With the history row written, the same move passes."""
    order = movable_from(frm)
    fields = {"status": to, **_fields_for(to)}
    assignments = ", ".join(f"{name} = %s" for name in fields)
    update = f"UPDATE orders_order SET {assignments} WHERE id = %s"  # noqa: S608

    with (
        pytest.raises(IntegrityError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(update, [*fields.values(), order.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert constraint_of(refused.value) == "order_history_required"
    assert Order.objects.get(pk=order.pk).status == frm

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(update, [*fields.values(), order.pk])
            OrderTransition.objects.create(
                order=order, from_status=frm, to_status=to, actor_kind=ActorKind.WORKER
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        transaction.set_rollback(True)


@pytest.mark.django_db(transaction=True)
def test_raw_move_without_history_fails_at_commit():
    """Autocommit: the statement is its own transaction, so the deferred trigger fires at
    its commit and nothing is kept."""
    order = DraftFactory()
    with pytest.raises(IntegrityError) as refused, connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_order SET status = %s WHERE id = %s", [S.DISCARDED, order.pk]
        )
    assert constraint_of(refused.value) == "order_history_required"
    assert Order.objects.get(pk=order.pk).status == S.DRAFT


def test_same_status_is_no_move_for_the_database_either():
    order = order_in(S.PREPARING)
    raw("UPDATE orders_order SET status = %s WHERE id = %s", [S.PREPARING, order.pk])
    assert Order.objects.get(pk=order.pk).status == S.PREPARING


# Who may do what.


def test_customer_cannot_start_preparation():
    order = order_in(S.RECEIVED)
    before = snapshot(order)
    with pytest.raises(ActorNotAllowed):
        services.transition(order=order, to=S.PREPARING, actor=Actor.customer(), reason="hurry")
    assert snapshot(order) == before


def test_staff_cancel_in_preparing_needs_a_reason_and_then_succeeds():
    order = order_in(S.PREPARING)
    staff = staff_user()
    before = snapshot(order)
    for blank in ["", "   \n"]:
        with pytest.raises(ReasonRequired):
            services.transition(
                order=order, to=S.CANCELLED, actor=Actor.staff(staff), reason=blank
            )
        assert snapshot(order) == before

    services.transition(
        order=order, to=S.CANCELLED, actor=Actor.staff(staff), reason="  out of stock  "
    )

    order.refresh_from_db()
    assert order.status == S.CANCELLED
    row = history(order)[-1]
    assert (row.actor_kind, row.actor_user, row.reason) == (ActorKind.STAFF, staff, "out of stock")
    reservation = Reservation.objects.get(pk=order.reservation_id)
    assert reservation.status == ReservationStatus.CANCELLED
    assert reservation.cancelled_by == CancelledBy.STAFF
    assert reservation.cancelled_by_user == staff


def test_customer_cannot_cancel_once_preparing():
    order = order_in(S.PREPARING)
    before = snapshot(order)
    with pytest.raises(ActorNotAllowed):
        services.transition(order=order, to=S.CANCELLED, actor=Actor.customer())
    with pytest.raises(OrderNotCancellable):
        services.cancel_by_customer(
            reservation=order.reservation, customer=order.reservation.customer
        )
    assert snapshot(order) == before


@pytest.mark.parametrize("status", [S.SHIPPED, S.DELIVERED])
def test_nobody_cancels_after_shipping(status):
    order = order_in(status)
    before = snapshot(order)
    for kind in ActorKind.values:
        with pytest.raises(IllegalTransition):
            services.transition(order=order, to=S.CANCELLED, actor=actor_of(kind), reason="return")
    with pytest.raises(OrderNotCancellable):
        services.cancel_by_customer(
            reservation=order.reservation, customer=order.reservation.customer
        )
    assert snapshot(order) == before


@pytest.mark.parametrize(
    "details",
    [{}, {"courier": "CJ"}, {"tracking_number": "1234"}, {"courier": " ", "tracking_number": " "}],
)
def test_shipping_needs_courier_and_tracking(details):
    order = order_in(S.PREPARING)
    before = snapshot(order)
    with pytest.raises(ShippingDetailsRequired):
        services.transition(
            order=order, to=S.SHIPPED, actor=Actor.courier("CJ webhook"), **details
        )
    assert snapshot(order) == before


@pytest.mark.parametrize(
    ("frm", "to"), [pair for pair, move in TRANSITIONS.items() if ActorKind.STAFF in move.actors]
)
def test_staff_moves_always_need_a_reason(frm, to):
    order = order_in(frm)
    before = snapshot(order)
    with pytest.raises(ReasonRequired):
        services.transition(order=order, to=to, actor=Actor.staff(staff_user()), **SHIPPING)
    assert snapshot(order) == before


# History is append-only.


def test_history_rows_cannot_be_updated_or_deleted():
    order = order_in(S.SHIPPED)
    rows = history(order)
    assert len(rows) == 3
    for sql, params in [
        ("UPDATE orders_ordertransition SET reason = %s WHERE id = %s", ["edited", rows[0].pk]),
        (
            "UPDATE orders_ordertransition SET to_status = %s WHERE id = %s",
            [S.DELIVERED, rows[-1].pk],
        ),
        ("DELETE FROM orders_ordertransition WHERE id = %s", [rows[0].pk]),
        ("DELETE FROM orders_ordertransition WHERE order_id = %s", [order.pk]),
    ]:
        with pytest.raises(IntegrityError) as refused:
            raw(sql, params)
        assert constraint_of(refused.value) == "order_history_append_only", sql
    assert history(order) == rows
    assert [r.reason for r in history(order)] == [r.reason for r in rows]


# Submitting and cancelling carry the reservation along.


def test_submit_assigns_a_valid_order_number_and_orders_the_reservation():
    order = DraftFactory()
    customer = order.reservation.customer
    submitted = services.submit_order(
        order=order, customer=customer, values=complete_answers(order)
    )
    assert submitted.status == S.RECEIVED
    assert len(submitted.number) == 11
    assert ORDER_NUMBER.is_valid(submitted.number)
    assert Reservation.objects.get(pk=order.reservation_id).status == ReservationStatus.ORDERED
    [row] = history(order)
    assert (row.from_status, row.to_status, row.actor_kind) == (
        S.DRAFT,
        S.RECEIVED,
        ActorKind.CUSTOMER,
    )
    [message] = outbox(order)
    assert message.template_key == "order.received"
    assert message.payload["order_number"] == submitted.number

    # A double submit returns the same order and writes nothing more.
    before = snapshot(order)
    again = services.submit_order(order=order, customer=customer, values=complete_answers(order))
    assert (again.pk, again.number) == (submitted.pk, submitted.number)
    assert snapshot(order) == before


@pytest.mark.parametrize("door", ["cancel_by_customer", "transition"])
def test_customer_cancelling_a_received_order_cancels_its_reservation(door):
    order = order_in(S.RECEIVED)
    reservation = order.reservation
    if door == "cancel_by_customer":
        services.cancel_by_customer(reservation=reservation, customer=reservation.customer)
    else:
        services.transition(order=order, to=S.CANCELLED, actor=Actor.customer())
    order.refresh_from_db()
    reservation.refresh_from_db()
    assert order.status == S.CANCELLED
    assert order.closed_at is not None
    assert reservation.status == ReservationStatus.CANCELLED
    assert reservation.cancelled_by == CancelledBy.CUSTOMER
    assert reservation.cancelled_by_user is None
    assert reservation.cancelled_at == order.closed_at
    assert [m.template_key for m in outbox(order)] == ["order.received", "order.cancelled"]


def test_staff_cancelling_a_received_order_names_the_staff_member_on_the_reservation():
    order = order_in(S.RECEIVED)
    staff = staff_user("cs-lead")
    services.transition(order=order, to=S.CANCELLED, actor=Actor.staff(staff), reason="fraud")
    reservation = Reservation.objects.get(pk=order.reservation_id)
    assert reservation.status == ReservationStatus.CANCELLED
    assert reservation.cancelled_by == CancelledBy.STAFF
    assert reservation.cancelled_by_user == staff


@pytest.mark.parametrize("status", [S.DRAFT, S.RECEIVED, S.PREPARING, S.SHIPPED, S.DELIVERED])
def test_database_refuses_cancelling_a_reservation_with_a_live_order(status):
    order = order_in(status)
    before = snapshot(order)
    reservation = Reservation.objects.get(pk=order.reservation_id)
    if reservation.status == ReservationStatus.ACTIVE:
        # The reservation service passes its own check and is stopped by the trigger.
        with pytest.raises(NotCancellable):
            reservation_services.cancel_reservation(
                reservation=reservation, by=CancelledBy.CUSTOMER
            )
    with pytest.raises(IntegrityError) as refused:
        raw(
            "UPDATE reservations_reservation SET status = 'cancelled', cancelled_at = now(), "
            "cancelled_by = 'customer' WHERE id = %s",
            [reservation.pk],
        )
    assert constraint_of(refused.value) == "reservation_in_use"
    assert snapshot(order) == before


def test_reservation_without_a_live_order_can_still_be_cancelled_directly():
    order = order_in(S.DISCARDED)
    reservation = reservation_services.cancel_reservation(
        reservation=order.reservation, by=CancelledBy.CUSTOMER
    )
    assert reservation.status == ReservationStatus.CANCELLED


def test_customer_cancel_with_a_draft_discards_it_and_cancels_the_reservation_at_once():
    order = DraftFactory()
    reservation = order.reservation
    services.cancel_by_customer(reservation=reservation, customer=reservation.customer)
    order.refresh_from_db()
    reservation.refresh_from_db()
    assert order.status == S.DISCARDED
    assert reservation.status == ReservationStatus.CANCELLED
    assert reservation.cancelled_by == CancelledBy.CUSTOMER
    assert [(r.from_status, r.to_status) for r in history(order)] == [(S.DRAFT, S.DISCARDED)]
    assert [m.template_key for m in outbox(order)] == ["order.discarded"]


def test_no_draft_opens_on_a_reservation_cancelled_by_a_concurrent_request():
    """Tab 1 loads the reservation for "Write order form"; tab 2's "Cancel" commits; tab 1
    goes on with the reservation it loaded."""
    reservation = ReservationFactory()
    customer = reservation.customer
    loaded_by_tab_1 = Reservation.objects.get(pk=reservation.pk)
    services.cancel_by_customer(reservation=reservation, customer=customer)

    with contextlib.suppress(DomainError):  # refusing is what this test expects
        services.open_draft(reservation=loaded_by_tab_1, customer=customer)
    assert not Order.objects.live().filter(reservation=reservation).exists()


def test_database_refuses_a_draft_on_a_cancelled_reservation():
    reservation = reservation_services.cancel_reservation(
        reservation=ReservationFactory(), by=CancelledBy.CUSTOMER
    )
    try:
        with transaction.atomic():
            Order.objects.create(reservation=reservation)
    except IntegrityError:
        refused = True
    else:
        refused = False
    assert refused, "a live draft was stored on a cancelled reservation"
    assert not Order.objects.filter(reservation=reservation).exists()


# Identity.


def test_order_number_never_changes():
    order = order_in(S.RECEIVED)
    for new in [ORDER_NUMBER.generate(), None]:
        with pytest.raises(IntegrityError) as refused:
            raw("UPDATE orders_order SET number = %s WHERE id = %s", [new, order.pk])
        assert constraint_of(refused.value) == "order_identity_immutable"
    other = ReservationFactory()
    with pytest.raises(IntegrityError) as refused:
        raw(
            "UPDATE orders_order SET reservation_id = %s WHERE id = %s",
            [other.pk, order.pk],
        )
    assert constraint_of(refused.value) == "order_identity_immutable"
    assert Order.objects.get(pk=order.pk).number == order.number


@pytest.mark.parametrize("status", [s for s in S.values if s != S.DRAFT])
def test_an_order_cannot_be_inserted_past_draft(status):
    reservation = ReservationFactory()
    now = timezone.now()
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Order.objects.create(
            reservation=reservation,
            status=status,
            number=ORDER_NUMBER.generate(),
            submitted_at=now,
            shipped_at=now,
            delivered_at=now,
            closed_at=now,
            **SHIPPING,
        )
    assert constraint_of(refused.value) == "order_starts_as_draft"
    assert not Order.objects.filter(reservation=reservation).exists()


# Drafts expire when the order-form window closes.


def test_expire_drafts_expires_only_drafts_of_closed_windows_once():
    closing = VariantFactory()
    campaign = closing.campaign
    now = campaign.order_closes_at + dt.timedelta(minutes=1)
    stale = [DraftFactory(reservation__variant=closing) for _ in range(2)]
    submitted = order_in(S.RECEIVED, reservation__variant=closing)
    later = CampaignFactory(
        reservation_closes_at=campaign.reservation_closes_at + dt.timedelta(days=5)
    )
    open_draft = DraftFactory(reservation__variant=VariantFactory(campaign=later))
    assert later.order_closes_at > now
    untouched = [snapshot(submitted), snapshot(open_draft)]

    assert services.expire_drafts(now=now) == 2

    for order in stale:
        order.refresh_from_db()
        assert order.status == S.EXPIRED
        assert order.closed_at == now
        [row] = history(order)
        assert (row.from_status, row.to_status, row.at) == (S.DRAFT, S.EXPIRED, now)
        assert (row.actor_kind, row.actor_label) == (ActorKind.WORKER, "expire-drafts")
        assert [m.template_key for m in outbox(order)] == ["order.expired"]
        assert Reservation.objects.get(pk=order.reservation_id).status == ReservationStatus.ACTIVE
    assert [snapshot(submitted), snapshot(open_draft)] == untouched

    after = [snapshot(order) for order in stale]
    assert services.expire_drafts(now=now + dt.timedelta(hours=1)) == 0
    assert [snapshot(order) for order in stale] == after
    assert [snapshot(submitted), snapshot(open_draft)] == untouched


def test_expire_drafts_boundary_is_the_closing_instant():
    """The window is closed from order_closes_at on (the form service's own rule)."""
    draft = DraftFactory()
    closes = draft.reservation.campaign.order_closes_at
    assert services.expire_drafts(now=closes - dt.timedelta(microseconds=1)) == 0
    assert services.expire_drafts(now=closes) == 1
    draft.refresh_from_db()
    assert draft.status == S.EXPIRED


# What the transition locks: the order's row, not rows other orders share.


def _hold_in_thread(work) -> tuple[threading.Event, threading.Thread, list]:
    """Run `work` in its own connection's transaction and keep it open until released."""
    started, release, errors = threading.Event(), threading.Event(), []

    def run():
        try:
            with transaction.atomic():
                work()
                started.set()
                release.wait(15)
                transaction.set_rollback(True)
        except Exception as exc:  # reported by the test
            errors.append(exc)
        finally:
            started.set()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(15)
    assert not errors, errors
    return release, thread, errors


def _without_waiting(work) -> None:
    """Run `work` in a transaction that gives up on any row lock after 2 s; roll back."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
        work()
        transaction.set_rollback(True)


@pytest.mark.django_db(transaction=True)
def test_transition_serialises_moves_of_the_same_order():
    order = DraftFactory()
    customer = order.reservation.customer
    release, thread, _errors = _hold_in_thread(
        lambda: services.transition(order=order, to=S.DISCARDED, actor=Actor.customer())
    )
    try:
        with pytest.raises(OperationalError, match="lock timeout"):
            _without_waiting(
                lambda: services.submit_order(
                    order=order, customer=customer, values={"recipient_name": "홍길동"}
                )
            )
    finally:
        release.set()
        thread.join()
    assert Order.objects.get(pk=order.pk).status == S.DRAFT


def _row_is_locked(model, pk) -> bool:
    """Whether another transaction holds a lock on the row that an UPDATE would wait for:
    asked from this thread's own connection with NOWAIT, so the answer is immediate."""
    try:
        with transaction.atomic():
            list(model.objects.select_for_update(nowait=True, no_key=True).filter(pk=pk))
    except OperationalError as exc:
        assert "could not obtain lock" in str(exc), exc
        return True
    return False


def _committed_without_waiting(work):
    """Run `work` in a transaction that gives up on any lock after 2 s, and commit it."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
        return work()


@pytest.mark.django_db(transaction=True)
def test_transition_does_not_lock_other_orders_of_the_same_variant():
    variant = VariantFactory()
    first, second = (DraftFactory(reservation__variant=variant) for _ in range(2))
    release, thread, errors = _hold_in_thread(
        lambda: services.transition(order=first, to=S.DISCARDED, actor=Actor.customer())
    )
    try:
        # The held move does hold its order's row (else the rest would prove nothing) ...
        assert _row_is_locked(Order, first.pk)
        # ... and nothing the other order's move needs: its row, the shared variant,
        # the campaign.
        assert not _row_is_locked(Order, second.pk)
        assert not _row_is_locked(type(variant), variant.pk)
        assert not _row_is_locked(type(variant.campaign), variant.campaign_id)
        moved = _committed_without_waiting(
            lambda: services.transition(order=second, to=S.DISCARDED, actor=Actor.customer())
        )
        assert moved.status == S.DISCARDED
    finally:
        release.set()
        thread.join()
    assert not errors, errors
    # The second move committed while the first was still open; the first was rolled back.
    assert Order.objects.get(pk=second.pk).status == S.DISCARDED
    assert OrderTransition.objects.filter(order=second, to_status=S.DISCARDED).count() == 1
    assert Order.objects.get(pk=first.pk).status == S.DRAFT


@pytest.mark.django_db(transaction=True)
def test_saving_a_draft_does_not_lock_other_customers_drafts_of_the_campaign():
    campaign = CampaignFactory()
    first, second = (
        DraftFactory(reservation__variant=VariantFactory(campaign=campaign)) for _ in range(2)
    )

    def save(order, name):
        return lambda: services.save_draft(
            order=order, customer=order.reservation.customer, values={"recipient_name": name}
        )

    release, thread, errors = _hold_in_thread(save(first, "홍길동"))
    try:
        assert _row_is_locked(Order, first.pk)  # the held save is real
        assert not _row_is_locked(Order, second.pk)
        assert not _row_is_locked(type(campaign), campaign.pk)
        assert not _row_is_locked(Reservation, second.reservation_id)
        saved = _committed_without_waiting(save(second, "김민수"))
        assert saved.recipient_name == "김민수"
    finally:
        release.set()
        thread.join()
    assert not errors, errors
    assert Order.objects.get(pk=second.pk).recipient_name == "김민수"
    assert Order.objects.get(pk=first.pk).recipient_name == ""  # rolled back
