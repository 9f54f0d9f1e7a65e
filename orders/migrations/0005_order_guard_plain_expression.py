"""orders_order_guard checks a status change with a plain expression.

Same allowed moves and errors as before, without running a NOT IN (VALUES ...) query for
every updated row. The SQL is written out as this migration installs it.
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
       AND NOT (OLD.status || '>' || NEW.status) = ANY (ARRAY['draft>received', 'draft>discarded', 'draft>expired', 'received>preparing', 'received>cancelled', 'preparing>shipped', 'preparing>cancelled', 'shipped>delivered']) THEN
        RAISE EXCEPTION 'order % cannot move from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_transition_allowed';
    END IF;
    RETURN NEW;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_order_fewer_indexes")]

    operations = [
        # Backward leaves it: the previous body was equivalent.
        migrations.RunSQL(FORWARD, migrations.RunSQL.noop)
    ]
