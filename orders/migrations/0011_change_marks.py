"""What the orders app's tables mark for kept answers (preorder_shop 0010): an order
written, inserted or deleted, and a step of its history, mark their reservation ('r'),
whose answers show the order's status, its history and the actions its orders allow."""

from django.db import migrations

MARKS = r"""
CREATE FUNCTION preorder_shop_mark_order() RETURNS trigger
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
CREATE TRIGGER mark_order_insert AFTER INSERT ON orders_order
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_order();
CREATE TRIGGER mark_order_update AFTER UPDATE ON orders_order
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_order();
CREATE TRIGGER mark_order_delete AFTER DELETE ON orders_order
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_order();

CREATE FUNCTION preorder_shop_mark_order_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM preorder_shop_changed_all('r', ARRAY(
        SELECT o.reservation_id FROM new_rows x JOIN orders_order o ON o.id = x.order_id));
    RETURN NULL;
END
$$;
CREATE TRIGGER mark_order_transition_insert AFTER INSERT ON orders_ordertransition
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_order_transition();
"""

MARKS_BACKWARD = r"""
DROP TRIGGER mark_order_transition_insert ON orders_ordertransition;
DROP FUNCTION preorder_shop_mark_order_transition();
DROP TRIGGER mark_order_insert ON orders_order;
DROP TRIGGER mark_order_update ON orders_order;
DROP TRIGGER mark_order_delete ON orders_order;
DROP FUNCTION preorder_shop_mark_order();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0010_order_address_change"),
        ("preorder_shop", "0010_kept_answers"),
    ]

    operations = [migrations.RunSQL(MARKS, MARKS_BACKWARD)]
