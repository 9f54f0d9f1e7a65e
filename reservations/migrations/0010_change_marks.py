"""What the reservations app's tables mark for kept answers (preorder_shop 0010).

- a reservation updated or deleted: 'r' (its own answers); its history: 'r'.
- a reservation entering or leaving the line, or moving in it: 'v' for the variant, since
  every place behind it moves. A new reservation marks nothing: its position is drawn above
  every other (0003), so no place moves, and no answer of its own is kept yet; the total it
  adds is shown once the refresh counts it, which marks.
- the line's count: 'v' when its total or the total's time changes (what answers show);
  the watermark alone moving changes no place (a place is exact either way).
- a campaign or a variant: 'g' (their names, windows and dates are in every answer).
- TRUNCATE of the reservations forgets every kept answer and mark, as it empties the
  line's counts.
"""

from django.db import migrations

HOLDING = "('active', 'ordered')"

LINE = f"""
CREATE FUNCTION reservations_mark_line() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM preorder_shop_changed_all('v', ARRAY(
            SELECT o.variant_id FROM old_rows o WHERE o.status IN {HOLDING}));
    ELSE
        PERFORM preorder_shop_changed_all('v', ARRAY(
            SELECT v.id FROM old_rows o JOIN new_rows n ON n.id = o.id,
                   LATERAL (VALUES (o.variant_id), (n.variant_id)) v(id)
             WHERE (o.status IN {HOLDING}) <> (n.status IN {HOLDING})
                OR o.variant_id <> n.variant_id OR o.position <> n.position));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER mark_line_update AFTER UPDATE ON reservations_reservation
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION reservations_mark_line();
CREATE TRIGGER mark_line_delete AFTER DELETE ON reservations_reservation
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION reservations_mark_line();

CREATE FUNCTION reservations_mark_line_total() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM preorder_shop_changed_all('v', ARRAY(SELECT o.variant_id FROM old_rows o));
    ELSE
        PERFORM preorder_shop_changed_all('v', ARRAY(
            SELECT n.variant_id FROM old_rows o JOIN new_rows n ON n.variant_id = o.variant_id
             WHERE o.total IS DISTINCT FROM n.total OR o.total_at IS DISTINCT FROM n.total_at));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER mark_line_total_update AFTER UPDATE ON reservations_line_count
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION reservations_mark_line_total();
CREATE TRIGGER mark_line_total_delete AFTER DELETE ON reservations_line_count
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION reservations_mark_line_total();

CREATE FUNCTION reservations_forget_answers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM preorder_shop_kept_answer;
    DELETE FROM preorder_shop_change_mark;
    RETURN NULL;
END
$$;

CREATE TRIGGER forget_answers AFTER TRUNCATE ON reservations_reservation
FOR EACH STATEMENT EXECUTE FUNCTION reservations_forget_answers();
"""

LINE_BACKWARD = """
DROP TRIGGER forget_answers ON reservations_reservation;
DROP FUNCTION reservations_forget_answers();
DROP TRIGGER mark_line_total_update ON reservations_line_count;
DROP TRIGGER mark_line_total_delete ON reservations_line_count;
DROP FUNCTION reservations_mark_line_total();
DROP TRIGGER mark_line_update ON reservations_reservation;
DROP TRIGGER mark_line_delete ON reservations_reservation;
DROP FUNCTION reservations_mark_line();
"""

MARKS = r"""
CREATE FUNCTION preorder_shop_mark_reservation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM preorder_shop_changed_all('r', ARRAY(SELECT x.id FROM old_rows x));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM preorder_shop_changed_all('r', ARRAY(SELECT x.id FROM new_rows x));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER mark_reservation_update AFTER UPDATE ON reservations_reservation
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_reservation();
CREATE TRIGGER mark_reservation_delete AFTER DELETE ON reservations_reservation
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_reservation();

CREATE FUNCTION preorder_shop_mark_reservation_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM preorder_shop_changed_all('r', ARRAY(SELECT x.reservation_id FROM new_rows x));
    RETURN NULL;
END
$$;
CREATE TRIGGER mark_reservation_change_insert AFTER INSERT ON reservations_reservationchange
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_reservation_change();

CREATE FUNCTION preorder_shop_mark_campaign() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM preorder_shop_changed_all('g', ARRAY(SELECT 0 FROM old_rows x));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM preorder_shop_changed_all('g', ARRAY(SELECT 0 FROM new_rows x));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER mark_campaign_insert AFTER INSERT ON reservations_campaign
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_campaign();
CREATE TRIGGER mark_campaign_update AFTER UPDATE ON reservations_campaign
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_campaign();
CREATE TRIGGER mark_campaign_delete AFTER DELETE ON reservations_campaign
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_campaign();

CREATE FUNCTION preorder_shop_mark_variant() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM preorder_shop_changed_all('g', ARRAY(SELECT 0 FROM old_rows x));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM preorder_shop_changed_all('g', ARRAY(SELECT 0 FROM new_rows x));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER mark_variant_insert AFTER INSERT ON reservations_variant
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_variant();
CREATE TRIGGER mark_variant_update AFTER UPDATE ON reservations_variant
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_variant();
CREATE TRIGGER mark_variant_delete AFTER DELETE ON reservations_variant
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_variant();
"""

MARKS_BACKWARD = r"""
DROP TRIGGER mark_variant_insert ON reservations_variant;
DROP TRIGGER mark_variant_update ON reservations_variant;
DROP TRIGGER mark_variant_delete ON reservations_variant;
DROP FUNCTION preorder_shop_mark_variant();
DROP TRIGGER mark_campaign_insert ON reservations_campaign;
DROP TRIGGER mark_campaign_update ON reservations_campaign;
DROP TRIGGER mark_campaign_delete ON reservations_campaign;
DROP FUNCTION preorder_shop_mark_campaign();
DROP TRIGGER mark_reservation_change_insert ON reservations_reservationchange;
DROP FUNCTION preorder_shop_mark_reservation_change();
DROP TRIGGER mark_reservation_update ON reservations_reservation;
DROP TRIGGER mark_reservation_delete ON reservations_reservation;
DROP FUNCTION preorder_shop_mark_reservation();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("reservations", "0009_line_counts"),
        ("preorder_shop", "0010_kept_answers"),
    ]

    operations = [
        migrations.RunSQL(LINE, LINE_BACKWARD),
        migrations.RunSQL(MARKS, MARKS_BACKWARD),
    ]
