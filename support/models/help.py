"""Help articles per ticket category, and the deflections they earn: a customer on the
ticket form who says an article answered their question ends the attempt without a ticket,
and that is counted here once per attempt (issue 14, section 2)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .bilingual import Bilingual
from .tickets import TicketCategory


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class HelpArticle(Bilingual):
    """A staff-written answer for one category, shown on the ticket form once published."""

    category = models.CharField(_("category"), max_length=32, choices=TicketCategory.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    display_order = models.PositiveSmallIntegerField(
        _("display order"), default=100, help_text=_("Lower first within the category.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("last changed"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("help article")
        verbose_name_plural = _("help articles")
        ordering = ["category", "display_order", "pk"]
        indexes = [
            # The ticket form's read: a category's published articles in display order.
            models.Index(
                fields=["category", "display_order"],
                condition=Q(status=ArticleStatus.PUBLISHED),
                name="help_article_published_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=TicketCategory.values), name="help_article_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ArticleStatus.values), name="help_article_status_valid"
            ),
            *Bilingual.constraints("help_article"),
        ]

    def __str__(self) -> str:
        return self.title_ko


class Deflection(models.Model):
    """ "This answered my question" on the ticket form: one row per form attempt (the
    attempt id is signed by the server when the form is shown, and unique here), so the
    deflection rate cannot be inflated by sending the button again."""

    attempt = models.UUIDField(_("form attempt"), editable=False)
    category = models.CharField(_("category"), max_length=32, choices=TicketCategory.choices)
    article = models.ForeignKey(
        HelpArticle,
        on_delete=models.SET_NULL,
        null=True,
        related_name="deflections",
        verbose_name=_("help article"),
    )
    customer = models.ForeignKey(
        "preorder_shop.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("deflection")
        verbose_name_plural = _("deflections")
        ordering = ["-at"]
        indexes = [models.Index(fields=["category", "at"], name="deflection_category_idx")]
        constraints = [
            models.UniqueConstraint(fields=["attempt"], name="deflection_once_per_attempt"),
            models.CheckConstraint(
                condition=Q(category__in=TicketCategory.values), name="deflection_category_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.at:%Y-%m-%d %H:%M}"
