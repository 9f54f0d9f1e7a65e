"""The reservation cancel guard refuses under the name reservations owns.

Reservations declares 'reservation_in_use' (reservations.services.IN_USE) as the name any
upper app's guard raises when a reservation it holds must not end on its own; the orders
guard used a name of its own, which reservations had to know. Same rule, same trigger.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION orders_reservation_cancel_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM orders_order
               WHERE reservation_id = NEW.id
                 AND status NOT IN ('cancelled', 'discarded', 'expired')) THEN
        RAISE EXCEPTION 'reservation % has a live order; cancel or discard the order',
                        NEW.number
            USING ERRCODE = 'check_violation', CONSTRAINT = 'reservation_in_use';
    END IF;
    RETURN NEW;
END
$$;
"""

BACKWARD = r"""
CREATE OR REPLACE FUNCTION orders_reservation_cancel_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM orders_order
               WHERE reservation_id = NEW.id
                 AND status NOT IN ('cancelled', 'discarded', 'expired')) THEN
        RAISE EXCEPTION 'reservation % has a live order; cancel or discard the order',
                        NEW.number
            USING ERRCODE = 'check_violation', CONSTRAINT = 'reservation_has_live_order';
    END IF;
    RETURN NEW;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_order_guard_plain_expression")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
