"""No order moves received -> preparing without an active unit of its own variant.

fulfillment.moves.start_preparing checks this in words; this trigger holds the same rule for
every writer: the pipeline's batch UPDATE, an admin edit, a raw UPDATE. It fires only on that
move (one probe of the active-allocation index per order), so other updates of an order pay
nothing. The unit is not locked: an ordered reservation's allocation is released only when
the reservation ends, which its live order prevents (orders migration 0002), and the staff
cancel holds the order's row lock.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION fulfillment_order_preparing_needs_unit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1
       FROM reservations_reservation r
       JOIN fulfillment_allocation a
         ON a.reservation_id = r.id AND a.variant_id = r.variant_id AND a.released_at IS NULL
      WHERE r.id = NEW.reservation_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'order % holds no unit of its variant: it cannot start preparing', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_preparing_needs_unit';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER order_preparing_needs_unit
BEFORE UPDATE OF status ON orders_order
FOR EACH ROW WHEN (OLD.status = 'received' AND NEW.status = 'preparing')
EXECUTE FUNCTION fulfillment_order_preparing_needs_unit();
"""

BACKWARD = """
DROP TRIGGER order_preparing_needs_unit ON orders_order;
DROP FUNCTION fulfillment_order_preparing_needs_unit();
"""


class Migration(migrations.Migration):
    dependencies = [("fulfillment", "0007_queue_exceptions_and_hold_alerts")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
