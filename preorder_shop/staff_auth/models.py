from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    SIGNED_IN = "signed_in", _("Signed in with both factors")
    PASSWORD_ONLY = "password_only", _("Signed in with a password only")
    WRONG = "wrong", _("Wrong password or code")
    THROTTLED = "throttled", _("Refused: too many attempts")


class StaffSignInAttempt(models.Model):
    """One attempt at the admin sign-in form, whatever came of it. Append-only (migration).
    A typed name that is no account is kept masked: it may be a password typed one field
    too early."""

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    account = models.CharField(_("account"), max_length=150, db_index=True)
    known_account = models.BooleanField(_("known account"))
    address = models.CharField(_("address"), max_length=64)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)

    class Meta:
        verbose_name = _("staff sign-in attempt")
        verbose_name_plural = _("staff sign-in attempts")
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=Outcome.values), name="sign_in_outcome_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.outcome}"
