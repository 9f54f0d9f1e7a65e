"""Reservations that end are recorded as due per UPDATE statement, not per row.

close_order_window expires a variant's reservations without an order form in one UPDATE,
tens of thousands of rows at a large launch. Measured on 33,156 of them (1,000,000
reservations, machine under load): the row trigger of 0009 added ~1.2 s to a 2.3 s
UPDATE (a PL/pgSQL call and a one-row INSERT per row); one INSERT ... SELECT from the
statement's new rows added ~0.7 s. Every other UPDATE of reservations now pays one trigger
call that finds no ended row (a customer's order form: one row).

Only the new rows are read: an ended status is final (the reservation guard), so a row
that is cancelled or expired after the UPDATE either just ended or was already due or
handled; ON CONFLICT keeps one due row per reservation, and a handled one that comes back
releases nothing.
"""

from django.db import migrations

FORWARD = r"""
DROP TRIGGER fulfillment_reservation_ended ON reservations_reservation;

CREATE OR REPLACE FUNCTION fulfillment_reservation_ended() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fulfillment_release_due (variant_id, reservation_id, reason)
    SELECT variant_id, id,
           CASE status WHEN 'expired' THEN 'order_deadline' ELSE 'reservation_ended' END
      FROM new_rows WHERE status IN ('cancelled', 'expired')
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER fulfillment_reservation_ended
AFTER UPDATE ON reservations_reservation
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION fulfillment_reservation_ended();
"""

BACKWARD = r"""
DROP TRIGGER fulfillment_reservation_ended ON reservations_reservation;

CREATE OR REPLACE FUNCTION fulfillment_reservation_ended() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fulfillment_release_due (variant_id, reservation_id, reason)
    VALUES (NEW.variant_id, NEW.id,
            CASE NEW.status WHEN 'expired' THEN 'order_deadline' ELSE 'reservation_ended' END)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER fulfillment_reservation_ended
AFTER UPDATE OF status ON reservations_reservation
FOR EACH ROW
WHEN (OLD.status IN ('active', 'ordered') AND NEW.status IN ('cancelled', 'expired'))
EXECUTE FUNCTION fulfillment_reservation_ended();
"""


class Migration(migrations.Migration):
    dependencies = [("fulfillment", "0009_allocation_work_follows_changes")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
