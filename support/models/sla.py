"""What the desk promises (issue 15, section 1): the SLA policy, and the campaigns' launch
weeks staffed round the clock (support.shifts reads them).

One default policy (category NULL) holds for every category alike; a category gets other
targets only as its own row with a reason and who decided it, so "cancellations first"
cannot creep in silently (support_report lists every such row). The database keeps that: one
row per category and one default (a unique index whose NULLs are not distinct), a reason and
a person on every category row, positive targets; migration 0004 seeds the default and a
trigger refuses deleting it or turning it into a category's row.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .tickets import TicketCategory

# A round-the-clock period is a launch's exception, not a second schedule.
MAX_ROUND_THE_CLOCK = dt.timedelta(days=14)


class SlaPolicy(models.Model):
    """Targets in staffed minutes (support.shifts: only staffed time counts, and the clock
    stops while the ticket waits on the customer)."""

    # NULL, not "": the default is no category, and a unique index with NULLS NOT DISTINCT
    # lets exactly one row have none.
    category = models.CharField(  # noqa: DJ001
        _("category"),
        max_length=32,
        choices=TicketCategory.choices,
        null=True,
        blank=True,
        help_text=_("Empty: the default policy, for every category without its own."),
    )
    first_response_minutes = models.PositiveIntegerField(_("first response (staffed minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (staffed minutes)"))
    reason = models.TextField(
        _("reason"), blank=True, help_text=_("Why this category differs from the default.")
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = [F("category").asc(nulls_first=True)]
        constraints = [
            # One row per category, and exactly one default (NULL): NULLS NOT DISTINCT.
            models.UniqueConstraint(
                fields=["category"], nulls_distinct=False, name="sla_policy_one_per_category"
            ),
            models.CheckConstraint(
                condition=Q(category__isnull=True) | Q(category__in=TicketCategory.values),
                name="sla_policy_category_valid",
            ),
            # A difference is explicit: a reason (not just spaces) and who decided it.
            models.CheckConstraint(
                condition=Q(category__isnull=True)
                | (Q(reason__regex=r"\S") & Q(decided_by__isnull=False)),
                name="sla_policy_difference_explained",
            ),
            models.CheckConstraint(
                condition=Q(first_response_minutes__gt=0)
                & Q(resolution_minutes__gte=F("first_response_minutes")),
                name="sla_policy_targets_sane",
            ),
        ]

    def __str__(self) -> str:
        return self.get_category_display() if self.category else str(_("Default policy"))


class RoundTheClock(models.Model):
    """Days (in the desk's zone, first and last included) a campaign's launch has the desk
    staffed 24 hours: public holidays and weekends included. The desk is one team, so every
    ticket's clock runs round the clock on those days, not only the campaign's."""

    campaign = models.ForeignKey(
        "reservations.Campaign",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("campaign"),
    )
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        verbose_name = _("round-the-clock period")
        verbose_name_plural = _("round-the-clock periods")
        ordering = ["first_day"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=F("first_day"))
                & Q(last_day__lt=F("first_day") + MAX_ROUND_THE_CLOCK),
                name="round_the_clock_span",
            ),
            models.CheckConstraint(
                condition=Q(reason__regex=r"\S"), name="round_the_clock_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.first_day}–{self.last_day}"  # noqa: RUF001
