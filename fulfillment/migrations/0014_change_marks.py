"""What fulfillment's tables mark for kept answers (preorder_shop 0010): a unit held or
released, and an order's hold put on or lifted, mark the reservation ('r'): its order's
status shows the expected delivery, and whether the order is on hold."""

from django.db import migrations

from preorder_shop.change_marks import mark_changes

MARKS = [
    mark_changes(
        name="allocation", table="fulfillment_allocation", scope="r", ids="x.reservation_id"
    ),
    mark_changes(
        name="order_hold",
        table="fulfillment_orderhold",
        scope="r",
        ids="(SELECT o.reservation_id FROM orders_order o WHERE o.id = x.order_id)",
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("fulfillment", "0013_verbose_names"),
        ("orders", "0011_change_marks"),
    ]

    operations = [migrations.RunSQL(forward, backward) for forward, backward in MARKS]
