"""Support desk, part 2: the SLA policy, the support calendar, the deadline columns and the
queue (issue 15, sections 1-2).

- SlaPolicy, seeded with the one default policy: a first response within 4 staffed hours
  (a ticket of the morning is answered the same day, one of the afternoon by the next
  morning: the 2023 launch's "where is my phone" waited days) and resolution within 3
  staffed days of 9 hours (27 h; what the courier or operations need to answer about an
  order, without letting a ticket sit for a week). support_sla_default_kept refuses
  deleting the default or making it a category's, so there is always exactly one.
- RoundTheClock: a campaign's launch days staffed 24 hours.
- Ticket: the stored deadlines, the first response, the assignee, a breach's reason; the
  queue's expression indexes. TicketHistory: assignment, release, merge and an explained
  breach, with the agent named on assignment rows.
"""

import datetime

import django.db.models.deletion
import django.db.models.expressions
import django.db.models.functions.comparison
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

DEFAULT_FIRST_RESPONSE_MINUTES = 4 * 60
DEFAULT_RESOLUTION_MINUTES = 3 * 9 * 60

DEFAULT_KEPT = r"""
CREATE FUNCTION support_sla_default_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.category IS NULL AND (TG_OP = 'DELETE' OR NEW.category IS NOT NULL) THEN
        RAISE EXCEPTION 'the default SLA policy stays (change its targets instead)'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'sla_policy_default_kept';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE TRIGGER sla_policy_default_kept
BEFORE UPDATE OR DELETE ON support_slapolicy
FOR EACH ROW EXECUTE FUNCTION support_sla_default_kept();
"""

DEFAULT_KEPT_BACKWARD = r"""
DROP TRIGGER sla_policy_default_kept ON support_slapolicy;
DROP FUNCTION support_sla_default_kept();
"""


def seed_default_policy(apps, schema_editor):
    apps.get_model("support", "SlaPolicy").objects.create(
        category=None,
        first_response_minutes=DEFAULT_FIRST_RESPONSE_MINUTES,
        resolution_minutes=DEFAULT_RESOLUTION_MINUTES,
    )


def _pending_due():
    return django.db.models.functions.comparison.Least(
        models.Case(
            models.When(first_responded_at__isnull=True, then=models.F("first_response_due_at"))
        ),
        models.F("resolution_due_at"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reservations", "0009_line_counts"),
        ("support", "0003_help_articles_notices"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SlaPolicy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "category",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("where_is_my_phone", "Where is my phone / delivery"),
                            ("change_delivery", "Change delivery address or details"),
                            ("cancel", "Cancel"),
                            ("order_form_help", "Order form help"),
                            ("plan_and_join_type", "Plan and join type"),
                            ("promotion", "Promotion"),
                            ("sign_in", "Sign-in problem"),
                            ("other", "Other"),
                        ],
                        help_text="Empty: the default policy, for every category without its own.",
                        max_length=32,
                        null=True,
                        verbose_name="category",
                    ),
                ),
                (
                    "first_response_minutes",
                    models.PositiveIntegerField(verbose_name="first response (staffed minutes)"),
                ),
                (
                    "resolution_minutes",
                    models.PositiveIntegerField(verbose_name="resolution (staffed minutes)"),
                ),
                (
                    "reason",
                    models.TextField(
                        blank=True,
                        help_text="Why this category differs from the default.",
                        verbose_name="reason",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="decided by",
                    ),
                ),
                (
                    "decided_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="decided at"
                    ),
                ),
            ],
            options={
                "verbose_name": "SLA policy",
                "verbose_name_plural": "SLA policies",
                "ordering": [models.OrderBy(models.F("category"), nulls_first=True)],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("category",),
                        name="sla_policy_one_per_category",
                        nulls_distinct=False,
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("category__isnull", True),
                            (
                                "category__in",
                                [
                                    "where_is_my_phone",
                                    "change_delivery",
                                    "cancel",
                                    "order_form_help",
                                    "plan_and_join_type",
                                    "promotion",
                                    "sign_in",
                                    "other",
                                ],
                            ),
                            _connector="OR",
                        ),
                        name="sla_policy_category_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("category__isnull", True),
                            models.Q(("reason__regex", "\\S"), ("decided_by__isnull", False)),
                            _connector="OR",
                        ),
                        name="sla_policy_difference_explained",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("first_response_minutes__gt", 0),
                            ("resolution_minutes__gte", models.F("first_response_minutes")),
                        ),
                        name="sla_policy_targets_sane",
                    ),
                ],
            },
        ),
        migrations.RunSQL(DEFAULT_KEPT, DEFAULT_KEPT_BACKWARD),
        migrations.RunPython(seed_default_policy, migrations.RunPython.noop),
        migrations.CreateModel(
            name="RoundTheClock",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("first_day", models.DateField(verbose_name="first day")),
                ("last_day", models.DateField(verbose_name="last day")),
                ("reason", models.TextField(verbose_name="reason")),
                (
                    "decided_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="decided at"
                    ),
                ),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="reservations.campaign",
                        verbose_name="campaign",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="decided by",
                    ),
                ),
            ],
            options={
                "verbose_name": "round-the-clock period",
                "verbose_name_plural": "round-the-clock periods",
                "ordering": ["first_day"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("last_day__gte", models.F("first_day")),
                            (
                                "last_day__lt",
                                django.db.models.expressions.CombinedExpression(
                                    models.F("first_day"),
                                    "+",
                                    models.Value(datetime.timedelta(days=14)),
                                ),
                            ),
                        ),
                        name="round_the_clock_span",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("reason__regex", "\\S")),
                        name="round_the_clock_reason",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="ticket",
            name="assignee",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="assigned to",
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="first_responded_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="first responded at"),
        ),
        migrations.AddField(
            model_name="ticket",
            name="first_response_due_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="first response due"),
        ),
        migrations.AddField(
            model_name="ticket",
            name="resolution_due_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="resolution due"),
        ),
        migrations.AddField(
            model_name="ticket",
            name="sla_breach_reason",
            field=models.TextField(
                blank=True,
                help_text="Recorded by an agent (support.services.explain_breach).",
                verbose_name="reason for the SLA breach",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                _pending_due(),
                models.F("id"),
                condition=models.Q(("status__in", ["open", "answered", "waiting_on_customer"])),
                name="ticket_queue_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                _pending_due(),
                models.F("id"),
                condition=models.Q(
                    ("assignee__isnull", True), ("status__in", ["open", "answered"])
                ),
                name="ticket_unassigned_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="ticket",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("first_responded_at__isnull", True),
                    ("first_responded_at__gte", models.F("created_at")),
                    _connector="OR",
                ),
                name="ticket_responded_after_created",
            ),
        ),
        migrations.AddField(
            model_name="tickethistory",
            name="assignee",
            field=models.ForeignKey(
                blank=True,
                help_text="Who the ticket was assigned to, or released from.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="agent",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="tickethistory", name="ticket_history_change_valid"
        ),
        migrations.AlterField(
            model_name="tickethistory",
            name="change",
            field=models.CharField(
                choices=[
                    ("status", "Status"),
                    ("linked", "Linked"),
                    ("assigned", "Assigned"),
                    ("released", "Released"),
                    ("merged", "Merged"),
                    ("sla_explained", "SLA breach explained"),
                ],
                max_length=16,
                verbose_name="change",
            ),
        ),
        migrations.AddConstraint(
            model_name="tickethistory",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "change__in",
                        ["status", "linked", "assigned", "released", "merged", "sla_explained"],
                    )
                ),
                name="ticket_history_change_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="tickethistory",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("assignee__isnull", False), ("change__in", ["assigned", "released"])
                    ),
                    models.Q(
                        models.Q(("change__in", ["assigned", "released"]), _negated=True),
                        ("assignee__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="ticket_history_assignee_named",
            ),
        ),
        migrations.AddConstraint(
            model_name="tickethistory",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("change__in", ["merged", "sla_explained"]), _negated=True),
                    ("note__regex", "\\S"),
                    _connector="OR",
                ),
                name="ticket_history_change_noted",
            ),
        ),
    ]
