"""The order state machine, enforced by the database for every writer.

- orders_order_guard: a status change must be one of the allowed moves (the same table as
  orders.services.TRANSITIONS; a test keeps the two equal), orders start as drafts, and an
  order's reservation and number never change once set.
- orders_order_history_required: at commit, an order whose status changed has the history
  row for that status (deferred constraint trigger), so no path can skip the timeline.
- orders_transition_append_only: history rows are never updated or deleted.
- orders_reservation_cancel_guard: a reservation with a live order (draft or submitted) is
  not cancelled on its own; the orders service discards or cancels the order in the same
  transaction.
"""

from django.db import migrations

ALLOWED_MOVES = [
    ("draft", "received"),
    ("draft", "discarded"),
    ("draft", "expired"),
    ("received", "preparing"),
    ("received", "cancelled"),
    ("preparing", "shipped"),
    ("preparing", "cancelled"),
    ("shipped", "delivered"),
]
MOVES_SQL = ", ".join(f"('{a}', '{b}')" for a, b in ALLOWED_MOVES)

FORWARD = f"""
CREATE FUNCTION orders_order_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' THEN
            RAISE EXCEPTION 'an order starts as a draft, not %', NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'order_starts_as_draft';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.reservation_id <> OLD.reservation_id
       OR (OLD.number IS NOT NULL AND NEW.number IS DISTINCT FROM OLD.number) THEN
        RAISE EXCEPTION 'an order''s reservation and number never change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_identity_immutable';
    END IF;
    IF NEW.status <> OLD.status
       AND (OLD.status, NEW.status) NOT IN (VALUES {MOVES_SQL}) THEN
        RAISE EXCEPTION 'order % cannot move from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_transition_allowed';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER order_guard
BEFORE INSERT OR UPDATE ON orders_order
FOR EACH ROW EXECUTE FUNCTION orders_order_guard();

CREATE FUNCTION orders_order_history_required() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM orders_ordertransition
                   WHERE order_id = NEW.id AND to_status = NEW.status) THEN
        RAISE EXCEPTION 'order % became % without a history row', NEW.id, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_history_required';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER order_history_required
AFTER UPDATE OF status ON orders_order
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM OLD.status)
EXECUTE FUNCTION orders_order_history_required();

CREATE FUNCTION orders_transition_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'order history is append-only'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'order_history_append_only';
END
$$;

CREATE TRIGGER order_transition_append_only
BEFORE UPDATE OR DELETE ON orders_ordertransition
FOR EACH ROW EXECUTE FUNCTION orders_transition_append_only();

CREATE FUNCTION orders_reservation_cancel_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM orders_order
               WHERE reservation_id = NEW.id
                 AND status NOT IN ('cancelled', 'discarded', 'expired')) THEN
        RAISE EXCEPTION 'reservation % has a live order; cancel or discard the order',
                        NEW.number
            USING ERRCODE = 'check_violation', CONSTRAINT = 'reservation_has_live_order';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER reservation_cancel_guard
BEFORE UPDATE OF status ON reservations_reservation
FOR EACH ROW WHEN (NEW.status IN ('cancelled', 'expired') AND OLD.status <> NEW.status)
EXECUTE FUNCTION orders_reservation_cancel_guard();
"""

BACKWARD = """
DROP TRIGGER reservation_cancel_guard ON reservations_reservation;
DROP FUNCTION orders_reservation_cancel_guard();
DROP TRIGGER order_transition_append_only ON orders_ordertransition;
DROP FUNCTION orders_transition_append_only();
DROP TRIGGER order_history_required ON orders_order;
DROP FUNCTION orders_order_history_required();
DROP TRIGGER order_guard ON orders_order;
DROP FUNCTION orders_order_guard();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("reservations", "0002_reservation_guard_trigger"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
