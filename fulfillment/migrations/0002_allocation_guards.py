"""The database refuses an oversold lot or a unit given across variants, whoever writes.

Checked once per INSERT statement over all its new rows (a transition table), so a
set-based allocation of many units costs one aggregate, not one count per row. Allocation
runs serialised per variant (advisory lock), so the count cannot race.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION fulfillment_allocation_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM new_rows n
          JOIN fulfillment_stocklot l ON l.id = n.lot_id
          JOIN reservations_reservation r ON r.id = n.reservation_id
         WHERE l.variant_id <> n.variant_id OR r.variant_id <> n.variant_id
    ) THEN
        RAISE EXCEPTION 'a unit goes only to a reservation of its own variant'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'allocation_same_variant';
    END IF;
    IF EXISTS (
        SELECT 1 FROM fulfillment_stocklot l
         WHERE l.id IN (SELECT DISTINCT lot_id FROM new_rows)
           AND l.quantity < (SELECT count(*) FROM fulfillment_allocation a
                              WHERE a.lot_id = l.id AND a.released_at IS NULL)
    ) THEN
        RAISE EXCEPTION 'a lot cannot give out more units than it holds'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'allocation_within_lot';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER allocation_guard
AFTER INSERT ON fulfillment_allocation
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION fulfillment_allocation_guard();

CREATE FUNCTION fulfillment_allocation_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.released_at IS NOT NULL
       OR NEW.reservation_id <> OLD.reservation_id OR NEW.lot_id <> OLD.lot_id
       OR NEW.variant_id <> OLD.variant_id OR NEW.allocated_at <> OLD.allocated_at THEN
        RAISE EXCEPTION 'an allocation is only ever released, once'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'allocation_release_only';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER allocation_immutable
BEFORE UPDATE OR DELETE ON fulfillment_allocation
FOR EACH ROW EXECUTE FUNCTION fulfillment_allocation_immutable();
"""

BACKWARD = """
DROP TRIGGER allocation_immutable ON fulfillment_allocation;
DROP FUNCTION fulfillment_allocation_immutable();
DROP TRIGGER allocation_guard ON fulfillment_allocation;
DROP FUNCTION fulfillment_allocation_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("fulfillment", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
