"""What fulfillment's tables mark for kept answers (preorder_shop 0010): a unit held or
released, and an order's hold put on or lifted, mark the reservation ('r'): its order's
status shows the expected delivery, and whether the order is on hold."""

from django.db import migrations

MARKS = r"""
CREATE FUNCTION preorder_shop_mark_allocation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM preorder_shop_changed_all('r', ARRAY(SELECT x.reservation_id FROM old_rows x));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM preorder_shop_changed_all('r', ARRAY(SELECT x.reservation_id FROM new_rows x));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER mark_allocation_insert AFTER INSERT ON fulfillment_allocation
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_allocation();
CREATE TRIGGER mark_allocation_update AFTER UPDATE ON fulfillment_allocation
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_allocation();
CREATE TRIGGER mark_allocation_delete AFTER DELETE ON fulfillment_allocation
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_allocation();

CREATE FUNCTION preorder_shop_mark_order_hold() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM preorder_shop_changed_all('r', ARRAY(
            SELECT o.reservation_id FROM old_rows x JOIN orders_order o ON o.id = x.order_id));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM preorder_shop_changed_all('r', ARRAY(
            SELECT o.reservation_id FROM new_rows x JOIN orders_order o ON o.id = x.order_id));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER mark_order_hold_insert AFTER INSERT ON fulfillment_orderhold
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_order_hold();
CREATE TRIGGER mark_order_hold_update AFTER UPDATE ON fulfillment_orderhold
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_order_hold();
CREATE TRIGGER mark_order_hold_delete AFTER DELETE ON fulfillment_orderhold
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_order_hold();
"""

MARKS_BACKWARD = r"""
DROP TRIGGER mark_order_hold_insert ON fulfillment_orderhold;
DROP TRIGGER mark_order_hold_update ON fulfillment_orderhold;
DROP TRIGGER mark_order_hold_delete ON fulfillment_orderhold;
DROP FUNCTION preorder_shop_mark_order_hold();
DROP TRIGGER mark_allocation_insert ON fulfillment_allocation;
DROP TRIGGER mark_allocation_update ON fulfillment_allocation;
DROP TRIGGER mark_allocation_delete ON fulfillment_allocation;
DROP FUNCTION preorder_shop_mark_allocation();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("fulfillment", "0013_verbose_names"),
        ("orders", "0011_change_marks"),
    ]

    operations = [migrations.RunSQL(MARKS, MARKS_BACKWARD)]
