"""Text staff write in Korean and English: Korean is required (the default language, and
what every customer can be shown); English is optional and, when left empty, English
readers see the Korean text (marked lang="ko" on the page), so an untranslated article or
notice still answers them rather than hiding."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Bilingual(models.Model):
    title_ko = models.CharField(_("title (Korean)"), max_length=120)
    body_ko = models.TextField(_("text (Korean)"))
    title_en = models.CharField(
        _("title (English)"), max_length=120, blank=True, help_text=_("Empty: shown in Korean.")
    )
    body_en = models.TextField(_("text (English)"), blank=True)

    class Meta:
        abstract = True

    @staticmethod
    def constraints(prefix: str) -> list[models.CheckConstraint]:
        """Korean present; English either complete (title and text) or absent."""
        return [
            models.CheckConstraint(
                condition=~Q(title_ko="") & ~Q(body_ko=""), name=f"{prefix}_korean_required"
            ),
            models.CheckConstraint(
                condition=Q(title_en="", body_en="") | (~Q(title_en="") & ~Q(body_en="")),
                name=f"{prefix}_english_complete_or_empty",
                violation_error_message=_("Give the English title and text together, or neither."),
            ),
        ]

    def text_in(self, language: str) -> tuple[str, str, str]:
        """(title, text, language actually used) for a reader of `language`."""
        if language.startswith("en") and self.title_en:
            return self.title_en, self.body_en, "en"
        return self.title_ko, self.body_ko, "ko"
