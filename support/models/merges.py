"""Merged duplicate tickets (issue 15): one row per ticket merged into another, written by
support.services.merging in the transaction that moved its conversation. A ticket is merged
at most once (the unique index), never into itself, and the row is never changed."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from preorder_shop.models import ActedBy

from .tickets import Ticket


class TicketMerge(ActedBy):
    merged = models.OneToOneField(
        Ticket, on_delete=models.PROTECT, related_name="merged_into", verbose_name=_("merged")
    )
    into = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="merges", verbose_name=_("into")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    messages_moved = models.PositiveIntegerField(_("messages moved"))

    class Meta:
        verbose_name = _("ticket merge")
        verbose_name_plural = _("ticket merges")
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(merged=F("into")), name="ticket_merge_not_into_itself"
            ),
            *ActedBy.constraints("ticket_merge"),
        ]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.into_id}"
