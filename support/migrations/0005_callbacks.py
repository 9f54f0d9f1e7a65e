"""Support desk, part 2: callback slots and bookings (issue 15, section 4).

A full slot cannot be overbooked, whoever writes. The guard is a counter on the slot row,
`booked`, with CHECK (booked <= capacity), kept up by a trigger on the bookings: inserting a
booking runs `UPDATE slot SET booked = booked + 1` in the same transaction, and cancelling
one gives the place back. Why a counter and not a count of bookings checked in a trigger:
two transactions counting at once both see the other's insert uncommitted and both pass,
while the UPDATE takes the slot's row lock, so concurrent bookings of one slot queue on
that row and each adds to the committed value the one before it left; the eleventh of ten
is refused by the CHECK (callback_slot_not_overbooked) however it was written. Different
slots never wait for each other. The service locks the slot first anyway, to answer a full
slot with its own message instead of a constraint error.

The counter is the trigger's alone: an INSERT with booked <> 0 or an UPDATE of booked
outside the booking trigger is refused, so it always equals the bookings that hold a place
(booked, kept, missed). A booking keeps its slot and ticket, starts as booked, moves only
from booked (to kept, missed or cancelled), is for a signed-in customer's ticket, and is
never deleted (a cancel is a status).
"""

import django.db.models.deletion
import django.db.models.functions.datetime
import django.db.models.functions.math
import django.db.models.lookups
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

TRIGGERS = """
CREATE FUNCTION support_callback_slot_counter() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.booked <> 0 THEN
        RAISE EXCEPTION 'a new callback slot has no bookings (booked = 0)'
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.booked <> OLD.booked AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'callback_slot.booked is counted by the bookings trigger only'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER support_callback_slot_counter
    BEFORE INSERT OR UPDATE ON support_callbackslot
    FOR EACH ROW EXECUTE FUNCTION support_callback_slot_counter();

CREATE FUNCTION support_callback_booking_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'callback bookings are kept: cancel one instead of deleting it'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'booked' THEN
            RAISE EXCEPTION 'a callback booking starts as booked, not %', NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
        IF NOT EXISTS (
            SELECT FROM support_ticket WHERE id = NEW.ticket_id AND customer_id IS NOT NULL
        ) THEN
            RAISE EXCEPTION 'a callback is booked for a signed-in customer''s ticket'
                USING ERRCODE = 'check_violation';
        END IF;
        UPDATE support_callbackslot SET booked = booked + 1 WHERE id = NEW.slot_id;
        RETURN NEW;
    END IF;
    IF NEW.slot_id <> OLD.slot_id OR NEW.ticket_id <> OLD.ticket_id THEN
        RAISE EXCEPTION 'a callback booking keeps its slot and ticket'
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status <> OLD.status THEN
        IF OLD.status <> 'booked' THEN
            RAISE EXCEPTION 'a callback that is % cannot become %', OLD.status, NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.status = 'cancelled' THEN
            UPDATE support_callbackslot SET booked = booked - 1 WHERE id = OLD.slot_id;
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER support_callback_booking_guard
    BEFORE INSERT OR UPDATE OR DELETE ON support_callbackbooking
    FOR EACH ROW EXECUTE FUNCTION support_callback_booking_guard();
"""

DROP_TRIGGERS = """
DROP TRIGGER support_callback_booking_guard ON support_callbackbooking;
DROP FUNCTION support_callback_booking_guard();
DROP TRIGGER support_callback_slot_counter ON support_callbackslot;
DROP FUNCTION support_callback_slot_counter();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0004_sla_queue"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CallbackSlot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("starts_at", models.DateTimeField(verbose_name="starts at")),
                (
                    "capacity",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="How many customers the agents can call in this half hour; "
                        "0 offers none.",
                        verbose_name="capacity",
                    ),
                ),
                (
                    "booked",
                    models.PositiveIntegerField(
                        default=0,
                        editable=False,
                        help_text="Places taken by bookings (counted by the database).",
                        verbose_name="booked",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now,
                        editable=False,
                        verbose_name="created at",
                    ),
                ),
            ],
            options={
                "verbose_name": "callback slot",
                "verbose_name_plural": "callback slots",
                "ordering": ["starts_at"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("starts_at",), name="callback_slot_starts_at_unique"
                    ),
                    models.CheckConstraint(
                        condition=django.db.models.lookups.Exact(
                            django.db.models.functions.math.Mod(
                                django.db.models.functions.datetime.Extract("starts_at", "epoch"),
                                1800,
                            ),
                            0,
                        ),
                        name="callback_slot_aligned",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("capacity__gte", 0)), name="callback_slot_capacity"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("booked__gte", 0), ("booked__lte", models.F("capacity"))
                        ),
                        name="callback_slot_not_overbooked",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="CallbackBooking",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("booked", "Booked"),
                            ("kept", "Kept"),
                            ("missed", "Missed"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="booked",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                (
                    "booked_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="booked at"
                    ),
                ),
                (
                    "reminded_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="reminded at"),
                ),
                (
                    "cancelled_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="cancelled at"),
                ),
                (
                    "outcome_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="outcome recorded at"
                    ),
                ),
                ("outcome_note", models.TextField(blank=True, verbose_name="outcome note")),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recorded by",
                    ),
                ),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="callbacks",
                        to="support.ticket",
                        verbose_name="ticket",
                    ),
                ),
                (
                    "slot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="bookings",
                        to="support.callbackslot",
                        verbose_name="slot",
                    ),
                ),
            ],
            options={
                "verbose_name": "callback booking",
                "verbose_name_plural": "callback bookings",
                "ordering": ["slot__starts_at", "booked_at", "pk"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("reminded_at__isnull", True), ("status", "booked")),
                        fields=["slot"],
                        name="callback_to_remind_idx",
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("status__in", ["booked", "kept", "missed", "cancelled"])
                        ),
                        name="callback_status_valid",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("status", "booked")),
                        fields=("ticket",),
                        name="callback_one_live_per_ticket",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("cancelled_at__isnull", False), ("status", "cancelled")),
                            models.Q(
                                models.Q(("status", "cancelled"), _negated=True),
                                ("cancelled_at__isnull", True),
                            ),
                            _connector="OR",
                        ),
                        name="callback_cancelled_at_iff_cancelled",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("outcome_at__isnull", False),
                                ("recorded_by__isnull", False),
                                ("status__in", ("kept", "missed")),
                            ),
                            models.Q(
                                models.Q(("status__in", ("kept", "missed")), _negated=True),
                                ("outcome_at__isnull", True),
                                ("outcome_note", ""),
                                ("recorded_by__isnull", True),
                            ),
                            _connector="OR",
                        ),
                        name="callback_outcome_iff_recorded",
                    ),
                ],
            },
        ),
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
    ]
