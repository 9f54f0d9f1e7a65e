"""A new order (draft) needs a reservation that still holds its place.

The check takes a FOR SHARE lock on the reservation row, so the INSERT of a draft and a
concurrent cancellation of its reservation (whose guard refuses while a live order exists)
wait for each other: one of them wins, never both.
"""

from django.db import migrations

from orders.migrations import _order_guard

CHECK_RESERVATION = """
        PERFORM 1 FROM reservations_reservation
         WHERE id = NEW.reservation_id AND status = 'active' FOR SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'reservation % does not hold its place', NEW.reservation_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'order_reservation_active';
        END IF;
"""


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_state_machine_triggers")]

    operations = [
        migrations.RunSQL(
            _order_guard.function(insert_checks=CHECK_RESERVATION),
            _order_guard.function(insert_checks=""),
        )
    ]
