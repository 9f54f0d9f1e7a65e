"""Help articles, deflections and notices (issue 14, sections 2 and 4).

support_notice_scope: a notice's variant is one of its campaign's (a variant of another
campaign would show the notice to customers it does not concern). A trigger, because the
variant table has no (id, campaign) key to refer to, and support must not add one to a
lower app's table.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


NOTICE_SCOPE = r"""
CREATE FUNCTION support_notice_scope() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.variant_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM reservations_variant
         WHERE id = NEW.variant_id AND campaign_id = NEW.campaign_id
    ) THEN
        RAISE EXCEPTION 'notice %: the variant is not of the notice''s campaign', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'notice_variant_of_campaign';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER notice_scope
BEFORE INSERT OR UPDATE OF campaign_id, variant_id ON support_notice
FOR EACH ROW EXECUTE FUNCTION support_notice_scope();
"""

NOTICE_SCOPE_BACKWARD = r"""
DROP TRIGGER notice_scope ON support_notice;
DROP FUNCTION support_notice_scope();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("preorder_shop", "0009_api_tokens"),
        ("reservations", "0009_line_counts"),
        ("support", "0002_ticket_triggers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HelpArticle",
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
                        max_length=32,
                        verbose_name="category",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("draft", "Draft"), ("published", "Published")],
                        default="draft",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                (
                    "display_order",
                    models.PositiveSmallIntegerField(
                        default=100,
                        help_text="Lower first within the category.",
                        verbose_name="display order",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created"
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now,
                        editable=False,
                        verbose_name="last changed",
                    ),
                ),
            ],
            options={
                "verbose_name": "help article",
                "verbose_name_plural": "help articles",
                "ordering": ["category", "display_order", "pk"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("status", "published")),
                        fields=["category", "display_order"],
                        name="help_article_published_idx",
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
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
                            )
                        ),
                        name="help_article_category_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("status__in", ["draft", "published"])),
                        name="help_article_status_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("title_ko", ""), _negated=True),
                            models.Q(("body_ko", ""), _negated=True),
                        ),
                        name="help_article_korean_required",
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
                        name="help_article_english_complete_or_empty",
                        violation_error_message="Give the English title and text together, or neither.",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Deflection",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("attempt", models.UUIDField(editable=False, verbose_name="form attempt")),
                (
                    "category",
                    models.CharField(
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
                        max_length=32,
                        verbose_name="category",
                    ),
                ),
                ("at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="at")),
                (
                    "customer",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="preorder_shop.customer",
                        verbose_name="customer",
                    ),
                ),
                (
                    "article",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="deflections",
                        to="support.helparticle",
                        verbose_name="help article",
                    ),
                ),
            ],
            options={
                "verbose_name": "deflection",
                "verbose_name_plural": "deflections",
                "ordering": ["-at"],
                "indexes": [
                    models.Index(fields=["category", "at"], name="deflection_category_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("attempt",), name="deflection_once_per_attempt"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
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
                            )
                        ),
                        name="deflection_category_valid",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Notice",
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
                    "fulfilment",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("courier", "Courier delivery"),
                            ("dawn", "Dawn delivery on launch morning"),
                            ("festival", "Pickup at the launch festival"),
                        ],
                        max_length=16,
                        verbose_name="only for fulfilment",
                    ),
                ),
                (
                    "severity",
                    models.CharField(
                        choices=[
                            ("info", "Information"),
                            ("warning", "Warning"),
                            ("critical", "Critical"),
                        ],
                        default="info",
                        max_length=16,
                        verbose_name="severity",
                    ),
                ),
                (
                    "starts_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="shown from"
                    ),
                ),
                ("ends_at", models.DateTimeField(verbose_name="shown until")),
                (
                    "published",
                    models.BooleanField(
                        default=False,
                        help_text="Unpublished notices are shown to no one.",
                        verbose_name="published",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created"
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now,
                        editable=False,
                        verbose_name="last changed",
                    ),
                ),
                (
                    "messaged_at",
                    models.DateTimeField(
                        editable=False, null=True, verbose_name="customers messaged at"
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
                    "created_by",
                    models.ForeignKey(
                        editable=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="created by",
                    ),
                ),
                (
                    "variant",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="reservations.variant",
                        verbose_name="only for variant",
                    ),
                ),
            ],
            options={
                "verbose_name": "notice",
                "verbose_name_plural": "notices",
                "ordering": ["-starts_at", "-pk"],
                "permissions": [
                    ("message_customers", "Can message every customer a notice concerns")
                ],
                "indexes": [
                    models.Index(
                        condition=models.Q(("published", True)),
                        fields=["campaign", "ends_at"],
                        name="notice_published_campaign_idx",
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("ends_at__gt", models.F("starts_at"))),
                        name="notice_ends_after_start",
                        violation_error_message="A notice must end after it starts.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("variant__isnull", True), ("fulfilment", ""), _connector="OR"
                        ),
                        name="notice_one_narrow_scope",
                        violation_error_message="Scope a notice to one variant or to one way of receiving, not both.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("fulfilment", ""),
                            ("fulfilment__in", ["courier", "dawn", "festival"]),
                            _connector="OR",
                        ),
                        name="notice_fulfilment_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("severity__in", ["info", "warning", "critical"])),
                        name="notice_severity_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("title_ko", ""), _negated=True),
                            models.Q(("body_ko", ""), _negated=True),
                        ),
                        name="notice_korean_required",
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
                        name="notice_english_complete_or_empty",
                        violation_error_message="Give the English title and text together, or neither.",
                    ),
                ],
            },
        ),
        migrations.RunSQL(NOTICE_SCOPE, NOTICE_SCOPE_BACKWARD),
    ]
