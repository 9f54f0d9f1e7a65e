"""Rules the database enforces on every reservation row, whoever writes it.

Checks that need another table (the campaign's window, limit and fulfilment options, the
variant's campaign) cannot be CHECK constraints, so a trigger raises check_violation with a
constraint name the service layer maps to a customer-facing message.
"""

from django.db import migrations

GUARD = r"""
CREATE FUNCTION reservations_reservation_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    c reservations_campaign%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.position <> OLD.position OR NEW.number <> OLD.number
           OR NEW.campaign_id <> OLD.campaign_id OR NEW.customer_id <> OLD.customer_id
           OR NEW.variant_id <> OLD.variant_id OR NEW.slot <> OLD.slot
           OR NEW.idempotency_key <> OLD.idempotency_key OR NEW.created_at <> OLD.created_at
        THEN
            RAISE EXCEPTION 'a reservation''s campaign, customer, variant, number, queue '
                            'position, slot and acceptance time never change'
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'reservation_identity_immutable';
        END IF;
        IF OLD.status IN ('cancelled', 'expired') AND NEW.status <> OLD.status THEN
            RAISE EXCEPTION 'reservation % is % and cannot change status', OLD.number, OLD.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'reservation_final_status';
        END IF;
        RETURN NEW;
    END IF;

    SELECT * INTO STRICT c FROM reservations_campaign WHERE id = NEW.campaign_id;
    IF NOT EXISTS (SELECT 1 FROM reservations_variant
                   WHERE id = NEW.variant_id AND campaign_id = NEW.campaign_id) THEN
        RAISE EXCEPTION 'variant % is not part of campaign %', NEW.variant_id, c.slug
            USING ERRCODE = 'check_violation', CONSTRAINT = 'reservation_variant_in_campaign';
    END IF;
    IF NOT (now() >= c.reservation_opens_at AND now() < c.reservation_closes_at) THEN
        RAISE EXCEPTION 'campaign % is not taking reservations now', c.slug
            USING ERRCODE = 'check_violation', CONSTRAINT = 'reservation_inside_window';
    END IF;
    IF NEW.slot > c.per_customer_limit THEN
        RAISE EXCEPTION 'campaign % allows % reservation(s) per customer', c.slug,
                        c.per_customer_limit
            USING ERRCODE = 'check_violation', CONSTRAINT = 'reservation_within_customer_limit';
    END IF;
    IF (NEW.fulfilment = 'courier' AND NOT c.offers_courier)
       OR (NEW.fulfilment = 'dawn' AND NOT c.offers_dawn_delivery)
       OR (NEW.fulfilment = 'festival' AND NOT c.offers_festival_pickup) THEN
        RAISE EXCEPTION 'campaign % does not offer %', c.slug, NEW.fulfilment
            USING ERRCODE = 'check_violation', CONSTRAINT = 'reservation_fulfilment_offered';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER reservation_guard
BEFORE INSERT OR UPDATE ON reservations_reservation
FOR EACH ROW EXECUTE FUNCTION reservations_reservation_guard();
"""

UNGUARD = """
DROP TRIGGER reservation_guard ON reservations_reservation;
DROP FUNCTION reservations_reservation_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("reservations", "0001_initial")]

    operations = [migrations.RunSQL(GUARD, UNGUARD)]
