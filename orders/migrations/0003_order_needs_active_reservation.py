"""A new order (draft) needs a reservation that still holds its place.

The check takes a FOR SHARE lock on the reservation row, so the INSERT of a draft and a
concurrent cancellation of its reservation (whose guard refuses while a live order exists)
wait for each other: one of them wins, never both.

The SQL is written out here as this migration installed it (a migration never imports code
that can change later; 0005 replaced the move check with a plain expression).
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION orders_order_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' THEN
            RAISE EXCEPTION 'an order starts as a draft, not %', NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'order_starts_as_draft';
        END IF;
        PERFORM 1 FROM reservations_reservation
         WHERE id = NEW.reservation_id AND status = 'active' FOR SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'reservation % does not hold its place', NEW.reservation_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'order_reservation_active';
        END IF;

        RETURN NEW;
    END IF;
    IF NEW.reservation_id <> OLD.reservation_id
       OR (OLD.number IS NOT NULL AND NEW.number IS DISTINCT FROM OLD.number) THEN
        RAISE EXCEPTION 'an order''s reservation and number never change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_identity_immutable';
    END IF;
    IF NEW.status <> OLD.status
       AND (OLD.status, NEW.status) NOT IN (VALUES ('draft', 'received'), ('draft', 'discarded'), ('draft', 'expired'), ('received', 'preparing'), ('received', 'cancelled'), ('preparing', 'shipped'), ('preparing', 'cancelled'), ('shipped', 'delivered')) THEN
        RAISE EXCEPTION 'order % cannot move from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_transition_allowed';
    END IF;
    RETURN NEW;
END
$$;
"""

BACKWARD = r"""
CREATE OR REPLACE FUNCTION orders_order_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' THEN
            RAISE EXCEPTION 'an order starts as a draft, not %', NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'order_starts_as_draft';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.reservation_id <> OLD.reservation_id
       OR (OLD.number IS NOT NULL AND NEW.number IS DISTINCT FROM OLD.number) THEN
        RAISE EXCEPTION 'an order''s reservation and number never change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_identity_immutable';
    END IF;
    IF NEW.status <> OLD.status
       AND (OLD.status, NEW.status) NOT IN (VALUES ('draft', 'received'), ('draft', 'discarded'), ('draft', 'expired'), ('received', 'preparing'), ('received', 'cancelled'), ('preparing', 'shipped'), ('preparing', 'cancelled'), ('shipped', 'delivered')) THEN
        RAISE EXCEPTION 'order % cannot move from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_transition_allowed';
    END IF;
    RETURN NEW;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_state_machine_triggers")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
