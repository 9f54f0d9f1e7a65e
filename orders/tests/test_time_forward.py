"""Time only moves forward: no move is dated before the order's previous step, refused by
the executor in words and by the database for any writer of the history."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from fulfillment.services import moves
from orders.exceptions import MoveBeforePrevious
from orders.models import OrderStatus, OrderTransition
from orders.services import Actor, transition_many
from orders.tests.factories import give_unit, order_in
from preorder_shop.actors import ActorKind

pytestmark = pytest.mark.django_db

S = OrderStatus


def test_a_move_dated_before_the_previous_step_is_refused():
    order = order_in(S.RECEIVED)
    give_unit(order.reservation)
    before = order.submitted_at - dt.timedelta(minutes=1)

    with pytest.raises(MoveBeforePrevious, match="before the order's previous step"):
        moves.start_preparing(order=order, actor=Actor.worker("w"), now=before)

    order.refresh_from_db()
    assert order.status == S.RECEIVED
    assert moves.start_preparing(order=order, actor=Actor.worker("w")).status == S.PREPARING


def test_the_database_refuses_a_history_row_dated_before_an_earlier_one():
    order = order_in(S.RECEIVED)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        OrderTransition.objects.create(
            order=order,
            from_status=S.RECEIVED,
            to_status=S.CANCELLED,
            at=order.submitted_at - dt.timedelta(seconds=1),
            actor_kind=ActorKind.CUSTOMER,
        )
    assert refused.value.__cause__.diag.constraint_name == "order_history_moves_forward"


def test_the_pipelines_batch_path_is_held_to_it_too():
    order = order_in(S.RECEIVED)
    give_unit(order.reservation)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        transition_many(
            order_ids=[order.pk],
            to=S.PREPARING,
            actor=Actor.worker("w"),
            now=order.submitted_at - dt.timedelta(hours=1),
        )
    assert refused.value.__cause__.diag.constraint_name == "order_history_moves_forward"
