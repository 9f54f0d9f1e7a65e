"""What the orders app's tables mark for kept answers (preorder_shop 0010): an order
written, inserted or deleted, and a step of its history, mark their reservation ('r'),
whose answers show the order's status, its history and the actions its orders allow."""

from django.db import migrations

from preorder_shop.change_marks import mark_changes

MARKS = [
    mark_changes(name="order", table="orders_order", scope="r", ids="x.reservation_id"),
    mark_changes(
        name="order_transition",
        table="orders_ordertransition",
        scope="r",
        ids="(SELECT o.reservation_id FROM orders_order o WHERE o.id = x.order_id)",
        events=("INSERT",),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0010_order_address_change"),
        ("preorder_shop", "0010_kept_answers"),
    ]

    operations = [migrations.RunSQL(forward, backward) for forward, backward in MARKS]
