"""The ticket machine and the ticket's links, enforced by the database for every writer.

- support_ticket_guard: a ticket starts open; a status change is one of the allowed moves
  (the same table as support.machine.TRANSITIONS, written out below; a test keeps the two
  equal); a ticket's number never changes, nor its customer once it has one; a linked order
  is of the linked reservation, and the reservation is the ticket's customer's.
- support_ticket_history_required: at commit, a ticket whose status changed has the history
  row of that move, stamped with the ticket's status_changed_at (deferred constraint trigger).
- support_history_append_only: history rows are never updated or deleted.
- support_message_immutable: a message is never deleted and what it says, who said it and
  when never change (a merge of duplicates, issue 15, may move it to another ticket).
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION support_ticket_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'open' THEN
            RAISE EXCEPTION 'a ticket starts open, not %', NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ticket_starts_open';
        END IF;
    ELSE
        IF NEW.number <> OLD.number
           OR (OLD.customer_id IS NOT NULL AND NEW.customer_id IS DISTINCT FROM OLD.customer_id)
        THEN
            RAISE EXCEPTION 'a ticket''s number and customer never change'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ticket_identity_immutable';
        END IF;
        IF NEW.status <> OLD.status
           AND NOT (OLD.status || '>' || NEW.status) = ANY (ARRAY['open>answered', 'open>waiting_on_customer', 'open>solved', 'answered>open', 'answered>waiting_on_customer', 'answered>solved', 'waiting_on_customer>open', 'waiting_on_customer>answered', 'waiting_on_customer>solved', 'solved>open', 'solved>closed']) THEN
            RAISE EXCEPTION 'ticket % cannot move from % to %', OLD.id, OLD.status, NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ticket_transition_allowed';
        END IF;
        IF NEW.order_id IS NOT DISTINCT FROM OLD.order_id
           AND NEW.reservation_id IS NOT DISTINCT FROM OLD.reservation_id
           AND NEW.customer_id IS NOT DISTINCT FROM OLD.customer_id THEN
            RETURN NEW;
        END IF;
    END IF;
    IF NEW.order_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM orders_order
         WHERE id = NEW.order_id AND reservation_id = NEW.reservation_id
    ) THEN
        RAISE EXCEPTION 'ticket %: the order is not of the linked reservation', NEW.number
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ticket_order_of_reservation';
    END IF;
    IF NEW.reservation_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM reservations_reservation
         WHERE id = NEW.reservation_id AND customer_id = NEW.customer_id
    ) THEN
        RAISE EXCEPTION 'ticket %: the reservation is not the customer''s', NEW.number
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ticket_reservation_of_customer';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER ticket_guard
BEFORE INSERT OR UPDATE ON support_ticket
FOR EACH ROW EXECUTE FUNCTION support_ticket_guard();

CREATE FUNCTION support_ticket_history_required() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM support_tickethistory
         WHERE ticket_id = NEW.id AND change = 'status' AND from_status = OLD.status
           AND to_status = NEW.status AND at = NEW.status_changed_at
    ) THEN
        RAISE EXCEPTION 'ticket % became % without a history row', NEW.id, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ticket_history_required';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER ticket_history_required
AFTER UPDATE OF status ON support_ticket
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM OLD.status)
EXECUTE FUNCTION support_ticket_history_required();

CREATE FUNCTION support_history_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ticket history is append-only'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'ticket_history_append_only';
END
$$;

CREATE TRIGGER ticket_history_append_only
BEFORE UPDATE OR DELETE ON support_tickethistory
FOR EACH ROW EXECUTE FUNCTION support_history_append_only();

CREATE FUNCTION support_message_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       OR NEW.body <> OLD.body OR NEW.author_kind <> OLD.author_kind
       OR NEW.staff_user_id IS DISTINCT FROM OLD.staff_user_id
       OR NEW.internal <> OLD.internal OR NEW.created_at <> OLD.created_at THEN
        RAISE EXCEPTION 'a ticket message is never edited or deleted'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ticket_message_immutable';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER ticket_message_immutable
BEFORE UPDATE OR DELETE ON support_ticketmessage
FOR EACH ROW EXECUTE FUNCTION support_message_immutable();
"""

BACKWARD = r"""
DROP TRIGGER ticket_message_immutable ON support_ticketmessage;
DROP FUNCTION support_message_immutable();
DROP TRIGGER ticket_history_append_only ON support_tickethistory;
DROP FUNCTION support_history_append_only();
DROP TRIGGER ticket_history_required ON support_ticket;
DROP FUNCTION support_ticket_history_required();
DROP TRIGGER ticket_guard ON support_ticket;
DROP FUNCTION support_ticket_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
