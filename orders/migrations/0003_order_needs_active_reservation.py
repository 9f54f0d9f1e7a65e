"""A new order (draft) needs a reservation that still holds its place.

The check takes a FOR SHARE lock on the reservation row, so the INSERT of a draft and a
concurrent cancellation of its reservation (whose guard refuses while a live order exists)
wait for each other: one of them wins, never both.
"""

from django.db import migrations

from orders.migrations import _order_guard


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_state_machine_triggers")]

    operations = [
        migrations.RunSQL(
            _order_guard.function(insert_checks=_order_guard.CHECK_RESERVATION),
            _order_guard.function(insert_checks=""),
        )
    ]
