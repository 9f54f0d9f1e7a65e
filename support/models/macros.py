"""Canned replies (macros, issue 15): Korean and English text staff write once and send to
one ticket or many, with placeholders filled from the ticket's live order data when the
reply is written (support.placeholders). Only the placeholders below exist; the form and
the database both refuse a brace that is not one of them, so a typo such as {stauts} can
never reach a customer as it is."""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .bilingual import Bilingual
from .tickets import TicketCategory

PLACEHOLDERS = ("status", "place", "courier", "tracking_number", "expected_date")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_KNOWN = "|".join(PLACEHOLDERS)
# A brace that does not open or close a known placeholder (PostgreSQL's regex dialect).
STRAY_BRACE = rf"\{{(?!({_KNOWN})\}})|(?<!\{{({_KNOWN}))\}}"


def placeholder_errors(text: str) -> list[str]:
    """What is wrong with the placeholders of `text`: unknown names, lone braces."""
    errors = []
    for name in PLACEHOLDER.findall(text):
        if name not in PLACEHOLDERS:
            errors.append(
                _("Unknown placeholder {%(name)s}. Placeholders are: %(known)s.")
                % {"name": name, "known": ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)}
            )
    if "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text):
        errors.append(_("Braces only mark placeholders, such as {status}; remove the lone brace."))
    return errors


class Macro(Bilingual):
    """A canned reply: its title (what agents pick it by) and text in Korean, optionally in
    English; for one category or any; inactive ones are kept but not offered."""

    category = models.CharField(
        _("category"),
        max_length=32,
        choices=TicketCategory.choices,
        blank=True,
        help_text=_("Empty: offered for tickets of every category."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["category", "title_ko", "pk"]
        constraints = [
            *Bilingual.constraints("macro"),
            models.CheckConstraint(
                condition=Q(category="") | Q(category__in=TicketCategory.values),
                name="macro_category_valid",
            ),
            models.CheckConstraint(
                condition=~Q(body_ko__regex=STRAY_BRACE) & ~Q(body_en__regex=STRAY_BRACE),
                name="macro_known_placeholders",
                violation_error_message=_("The text has a brace that is not a placeholder."),
            ),
        ]

    def __str__(self) -> str:
        return self.title_ko

    def clean(self) -> None:
        super().clean()
        errors = {
            field: found
            for field in ("body_ko", "body_en")
            if (found := placeholder_errors(getattr(self, field)))
        }
        if errors:
            raise ValidationError(errors)
