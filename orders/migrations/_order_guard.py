"""The body of orders_order_guard(), shared by the migrations that (re)define it."""

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


# For a new draft (migration 0003): a reservation that still holds its place. The FOR
# SHARE lock makes the INSERT and a concurrent cancellation of the reservation (whose guard
# refuses while a live order exists) wait for each other: one of them wins, never both.
CHECK_RESERVATION = """
        PERFORM 1 FROM reservations_reservation
         WHERE id = NEW.reservation_id AND status = 'active' FOR SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'reservation % does not hold its place', NEW.reservation_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'order_reservation_active';
        END IF;
"""


def function(*, insert_checks: str) -> str:
    # The allowed moves as an array of 'from>to' strings: a plain expression, which
    # PL/pgSQL evaluates without starting the executor for each row (a NOT IN (VALUES ...)
    # did, at ~19 us per row: a tenth of the pipeline's cost per order).
    moves = ", ".join(f"'{a}>{b}'" for a, b in ALLOWED_MOVES)
    return f"""
CREATE OR REPLACE FUNCTION orders_order_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' THEN
            RAISE EXCEPTION 'an order starts as a draft, not %', NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'order_starts_as_draft';
        END IF;{insert_checks}
        RETURN NEW;
    END IF;
    IF NEW.reservation_id <> OLD.reservation_id
       OR (OLD.number IS NOT NULL AND NEW.number IS DISTINCT FROM OLD.number) THEN
        RAISE EXCEPTION 'an order''s reservation and number never change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_identity_immutable';
    END IF;
    IF NEW.status <> OLD.status
       AND NOT (OLD.status || '>' || NEW.status) = ANY (ARRAY[{moves}]) THEN
        RAISE EXCEPTION 'order % cannot move from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_transition_allowed';
    END IF;
    RETURN NEW;
END
$$;
"""
