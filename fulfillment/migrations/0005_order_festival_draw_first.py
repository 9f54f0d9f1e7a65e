"""A festival-pickup order form is submitted only after the festival draw is published.

Those not drawn switch to courier delivery, which needs an address their order form did
not ask for: so no festival-pickup order moves draft -> received before the campaign's
draw is revealed, whoever writes (orders.services.submit_order says so in words). The
trigger fires only on that move, so the pipeline's later moves do not pay for it.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION fulfillment_order_festival_draw_first() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM reservations_reservation r
         WHERE r.id = NEW.reservation_id AND r.fulfilment = 'festival'
           AND NOT EXISTS (SELECT 1 FROM fulfillment_festivaldraw d
                            WHERE d.campaign_id = r.campaign_id AND d.revealed_at IS NOT NULL)
    ) THEN
        RAISE EXCEPTION 'order %: festival pickup is decided by the draw first', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_festival_draw_first';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER order_festival_draw_first
BEFORE UPDATE OF status ON orders_order
FOR EACH ROW WHEN (OLD.status = 'draft' AND NEW.status = 'received')
EXECUTE FUNCTION fulfillment_order_festival_draw_first();
"""

BACKWARD = """
DROP TRIGGER order_festival_draw_first ON orders_order;
DROP FUNCTION fulfillment_order_festival_draw_first();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("fulfillment", "0004_allocation_composite_keys"),
        ("orders", "0005_order_guard_plain_expression"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
