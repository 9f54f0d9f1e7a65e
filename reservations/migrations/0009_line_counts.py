"""Place in line and the line's total from counters, not from a count of the line per poll.

Until now every page and API call of a reservation counted the variant's whole line
(issue 13). Two tables now keep the line in counted form:

- reservations_line_bucket (variant, bucket, holding): the holding (active or ordered)
  reservations of the variant at positions bucket * 4096 .. bucket * 4096 + 4095 that are at
  or below the variant's watermark.
- reservations_line_count (variant, counted_upto, total, total_at): the watermark (every
  holding reservation of the variant at or below counted_upto is in the buckets, minus those
  that left the line since), and the total the last refresh found, with its time.

The refresh (reservations.lines.refresh_line_counts, beat every 10 s) adds new arrivals: it
takes the variant's queue lock (advisory lock (1, variant id)) exclusively in a transaction
of its own and reads the highest position W (every position drawn for the variant is then
committed or rolled back: migration 0003); then, in one transaction, it locks the variant's
line_count row FOR UPDATE, adds the holding reservations in counted_upto < position <= W to
their buckets, and sets counted_upto = W and total = the buckets' sum. A new reservation
never needs a trigger: its position is drawn later, above every watermark.

Leaving the line (cancelled or expired; a deleted row) is applied by the statement trigger
below to the row's bucket, if the row is at or below counted_upto. Returning to the line is
impossible: the reservation guard (0002) keeps cancelled and expired final, so the trigger
only ever subtracts.

Why the trigger reads counted_upto with FOR SHARE. A refresh and a transaction C that ends
reservation r (position p) can meet in two orders, told apart by the line_count row lock:
1. C takes the row FOR SHARE first. It reads the old watermark U and holds the lock to its
   commit. If p <= U, r was counted and C subtracts it. If p > U, C leaves the buckets
   alone; the refresh's FOR UPDATE waits until C has committed, and its counting INSERT, a
   new statement with a new snapshot (READ COMMITTED), sees r ended and does not count it.
2. The refresh takes the row FOR UPDATE first. C's FOR SHARE waits until the refresh has
   committed and then reads the new watermark W (a locking read sees the newest row
   version). The refresh counted r as holding, because C had not committed: if p <= W, C
   subtracts it. If p > W, nobody counted it and C changes nothing.
Without the lock, C could read the old U while a refresh is counting r (p in (U, W]) and
commit after the refresh: r stays counted for ever. The test that says so is
tests/test_line_count_concurrency.py.

A variant that has never been refreshed has no line_count row, and FOR SHARE on a missing
row locks nothing; so C inserts the row (watermark 0) itself. A refresh creates the row in
a transaction of its own before it counts, and whichever insert comes second waits for the
first to commit: a refresh cannot count while C, which found no row, is still uncommitted.

Per statement, not per row (as fulfillment 0010 measured for the same UPDATE): the order-form
deadline expires a variant's reservations in one UPDATE, tens of thousands of rows. A row
trigger would update one bucket row once per ended reservation (a new row version each
time) and lock buckets in the order the scan meets the rows, so two set-based updates could
lock two buckets crosswise. Here the statement's ended rows are summed per bucket and each
bucket is updated once, in (variant, bucket) order, at the end of the statement.

Bookkeeping of the database itself, as fulfillment's counters (0009): no Django model, no
foreign keys; TRUNCATE of the reservations empties them.
"""

from django.db import migrations

FORWARD = r"""
CREATE TABLE reservations_line_bucket (
    variant_id bigint NOT NULL,
    bucket bigint NOT NULL,
    holding integer NOT NULL CHECK (holding >= 0),
    PRIMARY KEY (variant_id, bucket)
);

CREATE TABLE reservations_line_count (
    variant_id bigint PRIMARY KEY,
    counted_upto bigint NOT NULL DEFAULT 0,
    total integer NOT NULL DEFAULT 0 CHECK (total >= 0),
    total_at timestamptz
);

CREATE FUNCTION reservations_line_left() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    variants bigint[];
    positions bigint[];
    v bigint;
    upto bigint;
    d record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(o.variant_id), array_agg(o.position) INTO variants, positions
          FROM old_rows o WHERE o.status IN ('active', 'ordered');
    ELSE
        SELECT array_agg(o.variant_id), array_agg(o.position) INTO variants, positions
          FROM old_rows o JOIN new_rows n ON n.id = o.id
         WHERE o.status IN ('active', 'ordered') AND n.status NOT IN ('active', 'ordered');
    END IF;
    IF variants IS NULL THEN
        RETURN NULL;
    END IF;
    FOR v IN SELECT DISTINCT x FROM unnest(variants) AS x ORDER BY 1 LOOP
        SELECT counted_upto INTO upto FROM reservations_line_count
         WHERE variant_id = v FOR SHARE;
        IF NOT FOUND THEN
            INSERT INTO reservations_line_count (variant_id) VALUES (v)
            ON CONFLICT DO NOTHING;
            SELECT counted_upto INTO STRICT upto FROM reservations_line_count
             WHERE variant_id = v FOR SHARE;
        END IF;
        FOR d IN
            SELECT l.p / 4096 AS bucket, count(*) AS gone
              FROM unnest(variants, positions) AS l(vid, p)
             WHERE l.vid = v AND l.p <= upto
             GROUP BY 1 ORDER BY 1
        LOOP
            UPDATE reservations_line_bucket SET holding = holding - d.gone
             WHERE variant_id = v AND bucket = d.bucket;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'variant % bucket % was counted but has no row', v, d.bucket
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'line_bucket_counted';
            END IF;
        END LOOP;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER reservation_line_left
AFTER UPDATE ON reservations_reservation
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION reservations_line_left();

CREATE TRIGGER reservation_line_deleted
AFTER DELETE ON reservations_reservation
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION reservations_line_left();

CREATE FUNCTION reservations_line_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM reservations_line_bucket;
    DELETE FROM reservations_line_count;
    RETURN NULL;
END
$$;

CREATE TRIGGER reservation_line_truncated AFTER TRUNCATE ON reservations_reservation
FOR EACH STATEMENT EXECUTE FUNCTION reservations_line_truncated();
"""

BACKWARD = r"""
DROP TRIGGER reservation_line_truncated ON reservations_reservation;
DROP FUNCTION reservations_line_truncated();
DROP TRIGGER reservation_line_deleted ON reservations_reservation;
DROP TRIGGER reservation_line_left ON reservations_reservation;
DROP FUNCTION reservations_line_left();
DROP TABLE reservations_line_count;
DROP TABLE reservations_line_bucket;
"""


class Migration(migrations.Migration):
    dependencies = [("reservations", "0008_verbose_names")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
