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


def function(*, insert_checks: str) -> str:
    moves = ", ".join(f"('{a}', '{b}')" for a, b in ALLOWED_MOVES)
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
       AND (OLD.status, NEW.status) NOT IN (VALUES {moves}) THEN
        RAISE EXCEPTION 'order % cannot move from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'order_transition_allowed';
    END IF;
    RETURN NEW;
END
$$;
"""
