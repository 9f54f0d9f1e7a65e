"""The SQL of the triggers that mark changes for kept answers (migration 0010 explains the
marks; preorder_shop.kept_answers reads them).

Each app's migration marks its own tables with `mark_changes`: statement triggers (a
set-based UPDATE of ten thousand rows writes one mark per distinct id, not per row), after
INSERT, UPDATE and DELETE, in the transaction that makes the change. Migrations call these
builders, so what they return for given arguments never changes: a new kind of trigger is
a new function.
"""

EVENTS = ("INSERT", "UPDATE", "DELETE")


def mark_changes(
    *, name: str, table: str, scope: str, ids: str, events: tuple[str, ...] = EVENTS
) -> tuple[str, str]:
    """(forward, backward) SQL: every statement of `events` on `table` marks `scope` for
    the ids that `ids` (an SQL expression over a changed row `x`, old or new) names."""
    function = f"preorder_shop_mark_{name}"
    forward = [
        f"""
CREATE FUNCTION {function}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM preorder_shop_changed_all('{scope}', ARRAY(SELECT {ids} FROM old_rows x));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM preorder_shop_changed_all('{scope}', ARRAY(SELECT {ids} FROM new_rows x));
    END IF;
    RETURN NULL;
END
$$;"""  # noqa: S608 (the migrations' constants only)
    ]
    for event in events:
        tables = {
            "INSERT": "NEW TABLE AS new_rows",
            "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "DELETE": "OLD TABLE AS old_rows",
        }[event]
        forward.append(
            f"CREATE TRIGGER mark_{name}_{event.lower()} AFTER {event} ON {table}"
            f" REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
        )
    backward = [f"DROP TRIGGER mark_{name}_{e.lower()} ON {table};" for e in events]
    backward.append(f"DROP FUNCTION {function}();")
    return "\n".join(forward), "\n".join(backward)
