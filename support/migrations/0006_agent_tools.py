"""Support desk, part 2: canned replies and merged tickets (issue 15, section 3).

A merge row is the record of what moved where: the database refuses to change or delete it
(ticket_merge_append_only), like the ticket history."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

APPEND_ONLY = r"""
CREATE FUNCTION support_merge_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a ticket merge is never changed or deleted'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'ticket_merge_append_only';
END
$$;

CREATE TRIGGER ticket_merge_append_only
BEFORE UPDATE OR DELETE ON support_ticketmerge
FOR EACH ROW EXECUTE FUNCTION support_merge_append_only();
"""

APPEND_ONLY_BACKWARD = r"""
DROP TRIGGER ticket_merge_append_only ON support_ticketmerge;
DROP FUNCTION support_merge_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0005_callbacks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Macro",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title_ko", models.CharField(max_length=120, verbose_name="title (Korean)")),
                ("body_ko", models.TextField(verbose_name="text (Korean)")),
                (
                    "title_en",
                    models.CharField(
                        blank=True,
                        help_text="Empty: shown in Korean.",
                        max_length=120,
                        verbose_name="title (English)",
                    ),
                ),
                ("body_en", models.TextField(blank=True, verbose_name="text (English)")),
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
                        help_text="Empty: offered for tickets of every category.",
                        max_length=32,
                        verbose_name="category",
                    ),
                ),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now,
                        editable=False,
                        verbose_name="created at",
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now,
                        editable=False,
                        verbose_name="updated at",
                    ),
                ),
            ],
            options={
                "verbose_name": "canned reply",
                "verbose_name_plural": "canned replies",
                "ordering": ["category", "title_ko", "pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("title_ko", ""), _negated=True),
                            models.Q(("body_ko", ""), _negated=True),
                        ),
                        name="macro_korean_required",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("body_en", ""), ("title_en", "")),
                            models.Q(
                                models.Q(("title_en", ""), _negated=True),
                                models.Q(("body_en", ""), _negated=True),
                            ),
                            _connector="OR",
                        ),
                        name="macro_english_complete_or_empty",
                        violation_error_message="Give the English title and text together, or neither.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("category", ""),
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
                        name="macro_category_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                (
                                    "body_ko__regex",
                                    "\\{(?!(status|place|courier|tracking_number|expected_date)\\})|(?<!\\{(status|place|courier|tracking_number|expected_date))\\}",
                                ),
                                _negated=True,
                            ),
                            models.Q(
                                (
                                    "body_en__regex",
                                    "\\{(?!(status|place|courier|tracking_number|expected_date)\\})|(?<!\\{(status|place|courier|tracking_number|expected_date))\\}",
                                ),
                                _negated=True,
                            ),
                        ),
                        name="macro_known_placeholders",
                        violation_error_message="The text has a brace that is not a placeholder.",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="TicketMerge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "actor_kind",
                    models.CharField(
                        choices=[
                            ("customer", "Customer"),
                            ("staff", "Staff"),
                            ("worker", "Fulfilment worker"),
                            ("courier", "Courier"),
                            ("operator", "Operator (command)"),
                        ],
                        max_length=16,
                        verbose_name="by",
                    ),
                ),
                (
                    "actor_label",
                    models.CharField(
                        blank=True, max_length=100, verbose_name="worker, courier or operator"
                    ),
                ),
                ("at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="at")),
                ("messages_moved", models.PositiveIntegerField(verbose_name="messages moved")),
                (
                    "actor_user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="staff member",
                    ),
                ),
                (
                    "into",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="merges",
                        to="support.ticket",
                        verbose_name="into",
                    ),
                ),
                (
                    "merged",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="merged_into",
                        to="support.ticket",
                        verbose_name="merged",
                    ),
                ),
            ],
            options={
                "verbose_name": "ticket merge",
                "verbose_name_plural": "ticket merges",
                "ordering": ["-at", "-pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("merged", models.F("into")), _negated=True),
                        name="ticket_merge_not_into_itself",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("actor_user__isnull", True), ("actor_kind", "staff"), _connector="OR"
                        ),
                        name="ticket_merge_user_is_staff",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("actor_kind", "staff"), _negated=True),
                            ("actor_user__isnull", False),
                            _connector="OR",
                        ),
                        name="ticket_merge_staff_named",
                    ),
                ],
            },
        ),
        migrations.RunSQL(APPEND_ONLY, APPEND_ONLY_BACKWARD),
    ]
