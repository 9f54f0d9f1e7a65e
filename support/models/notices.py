"""Notices staff publish to the customers they concern (issue 14, section 4): scoped to a
campaign, and within it optionally to one variant or one way of receiving the phone, shown
from starts_at until ends_at while published. support.site_notices reads them for the
pages and the API; the database keeps a notice's variant within its campaign (migration
0003's trigger)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reservations.models import Fulfilment

from .bilingual import Bilingual


class NoticeSeverity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class Notice(Bilingual):
    campaign = models.ForeignKey(
        "reservations.Campaign",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("campaign"),
    )
    # At most one of the two narrower scopes: a notice is for the whole campaign, for one
    # variant, or for one way of receiving the phone (issue 14: "a whole campaign, one
    # variant or one fulfilment method").
    variant = models.ForeignKey(
        "reservations.Variant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only for variant"),
    )
    fulfilment = models.CharField(
        _("only for fulfilment"), max_length=16, choices=Fulfilment.choices, blank=True
    )
    severity = models.CharField(
        _("severity"), max_length=16, choices=NoticeSeverity.choices, default=NoticeSeverity.INFO
    )
    starts_at = models.DateTimeField(_("shown from"), default=timezone.now)
    ends_at = models.DateTimeField(_("shown until"))
    published = models.BooleanField(
        _("published"), default=False, help_text=_("Unpublished notices are shown to no one.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
        editable=False,
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("last changed"), default=timezone.now, editable=False)
    # When the affected customers were last messaged (support.site_notices.message_affected).
    messaged_at = models.DateTimeField(_("customers messaged at"), null=True, editable=False)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-starts_at", "-pk"]
        permissions = [
            ("message_customers", _("Can message every customer a notice concerns")),
        ]
        indexes = [
            # Every page and every API status poll asks for a campaign's active notices.
            models.Index(
                fields=["campaign", "ends_at"],
                condition=Q(published=True),
                name="notice_published_campaign_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="notice_ends_after_start",
                violation_error_message=_("A notice must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(variant__isnull=True) | Q(fulfilment=""),
                name="notice_one_narrow_scope",
                violation_error_message=_(
                    "Scope a notice to one variant or to one way of receiving, not both."
                ),
            ),
            models.CheckConstraint(
                condition=Q(fulfilment="") | Q(fulfilment__in=Fulfilment.values),
                name="notice_fulfilment_valid",
            ),
            models.CheckConstraint(
                condition=Q(severity__in=NoticeSeverity.values), name="notice_severity_valid"
            ),
            *Bilingual.constraints("notice"),
        ]

    def __str__(self) -> str:
        return self.title_ko

    def clean(self) -> None:
        """The form's word for what the trigger refuses (migration 0003)."""
        if self.variant_id and self.campaign_id and self.variant.campaign_id != self.campaign_id:
            raise ValidationError({"variant": _("Choose a variant of the notice's campaign.")})

    @property
    def scope_label(self) -> str:
        if self.variant_id:
            return str(self.variant)
        if self.fulfilment:
            return self.get_fulfilment_display()
        return str(_("Whole campaign"))
