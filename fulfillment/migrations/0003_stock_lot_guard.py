"""A lot cannot shrink below the units it has given out, nor change variant once used."""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION fulfillment_stocklot_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    given integer;
BEGIN
    SELECT count(*) INTO given FROM fulfillment_allocation
     WHERE lot_id = OLD.id AND (released_at IS NULL OR NEW.variant_id <> OLD.variant_id);
    IF NEW.variant_id <> OLD.variant_id AND given > 0 THEN
        RAISE EXCEPTION 'lot % has allocations and cannot change variant', OLD.reference
            USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_lot_within_allocations';
    END IF;
    IF NEW.quantity < given THEN
        RAISE EXCEPTION 'lot % has % units allocated; its quantity cannot go below that',
                        OLD.reference, given
            USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_lot_within_allocations';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER stock_lot_guard
BEFORE UPDATE OF quantity, variant_id ON fulfillment_stocklot
FOR EACH ROW EXECUTE FUNCTION fulfillment_stocklot_guard();
"""

BACKWARD = """
DROP TRIGGER stock_lot_guard ON fulfillment_stocklot;
DROP FUNCTION fulfillment_stocklot_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("fulfillment", "0002_allocation_guards")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
