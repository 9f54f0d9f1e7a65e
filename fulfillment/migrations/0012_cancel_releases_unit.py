"""A cancelled reservation's unit is released in the cancel's own transaction.

Until now a cancel only wrote the reservation into fulfillment_release_due (0009/0010), and
the next allocation run (beat, every minute) released its unit; meanwhile the reservation
page said "a phone is reserved for you" about a cancelled reservation. Now a row trigger,
fired only when a reservation's status becomes 'cancelled' (the WHEN clause is checked
without calling PL/pgSQL, so close_order_window's expiry UPDATE of thousands of rows pays
nothing for it), releases the reservation's active allocation in the same statement. Every
door that cancels (reservations.services.cancel_reservation, the order machine's cancel, a
raw UPDATE) goes through it, and the reservations app needs to know nothing of allocation.

The race. An allocation run reads the line, then inserts the units, then commits; a cancel
that updates the reservation in between cannot see the uncommitted unit, so it would release
nothing and the run would commit a unit for a cancelled reservation. The trigger therefore
first takes the variant's queue lock (advisory lock (1, variant id)) in exclusive mode, the
lock every allocation run holds to its commit: it waits for a run in flight, and its UPDATE,
a new statement with a new snapshot (READ COMMITTED), then sees that run's units. A run that
starts later waits for the cancel to commit and no longer finds the reservation in line.
Exclusive, not shared: the staff cancel allocates in the same transaction after the cancel
(allocate_variant takes the lock exclusively), and two transactions upgrading a shared lock
would deadlock each other.

The counters stay exact through the existing statement trigger on fulfillment_allocation
(0009): the lot's active count goes down; the frontier is not lowered, the reservation no
longer holding. The due row that 0010 still writes for the cancel is deleted by the next run,
which finds nothing left to release. Expiries (the order-form deadline) keep the due-row path.

Cancels that were waiting for a run when this is applied are released here as well.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION fulfillment_reservation_cancelled() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1, NEW.variant_id::int);
    UPDATE fulfillment_allocation
       SET released_at = GREATEST(coalesce(NEW.cancelled_at, now()), allocated_at),
           release_reason = 'reservation_ended'
     WHERE reservation_id = NEW.id AND variant_id = NEW.variant_id AND released_at IS NULL;
    RETURN NULL;
END
$$;

CREATE TRIGGER fulfillment_reservation_cancelled
AFTER UPDATE OF status ON reservations_reservation
FOR EACH ROW
WHEN (OLD.status IS DISTINCT FROM 'cancelled' AND NEW.status = 'cancelled')
EXECUTE FUNCTION fulfillment_reservation_cancelled();

UPDATE fulfillment_allocation a
   SET released_at = GREATEST(coalesce(r.cancelled_at, now()), a.allocated_at),
       release_reason = 'reservation_ended'
  FROM reservations_reservation r
 WHERE r.id = a.reservation_id AND r.status = 'cancelled' AND a.released_at IS NULL;
"""

BACKWARD = r"""
DROP TRIGGER fulfillment_reservation_cancelled ON reservations_reservation;
DROP FUNCTION fulfillment_reservation_cancelled();
"""


class Migration(migrations.Migration):
    dependencies = [("fulfillment", "0011_backfill_festival_draw_published")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
