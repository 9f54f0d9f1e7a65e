"""Time only moves forward: an order's history row may not be dated before one it already
has. Checked once per INSERT statement over its new rows (a transition table), so the
pipeline's batch of thousands costs one join, not a lookup per row."""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION orders_history_moves_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM new_rows n
          JOIN orders_ordertransition t ON t.order_id = n.order_id AND t.at > n.at
    ) THEN
        RAISE EXCEPTION 'an order''s history cannot go back in time'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_history_moves_forward';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER order_history_moves_forward
AFTER INSERT ON orders_ordertransition
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION orders_history_moves_forward();
"""

BACKWARD = r"""
DROP TRIGGER order_history_moves_forward ON orders_ordertransition;
DROP FUNCTION orders_history_moves_forward();
"""


class Migration(migrations.Migration):
    dependencies = [("orders", "0008_actor_label_names_every_kind")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
