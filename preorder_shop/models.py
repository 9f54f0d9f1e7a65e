from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .phone import E164_MOBILE_PATTERN, mask_name, mask_phone


class Customer(models.Model):
    """A person known by a verified Korean mobile number. No password: one-time codes only."""

    phone = models.CharField(_("mobile number"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=50)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_signed_in_at = models.DateTimeField(_("last signed in"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [("view_personal_data", _("Can see unmasked names, phones and addresses"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(phone__regex=E164_MOBILE_PATTERN),
                name="customer_phone_is_e164_kr_mobile",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="customer_name_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{mask_name(self.name)} {mask_phone(self.phone)}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


class OneTimeCode(models.Model):
    """A 6-digit sign-in code, stored only as a keyed hash. Single use, short-lived."""

    phone = models.CharField(max_length=16)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        indexes = [models.Index(fields=["phone", "-created_at"], name="otp_phone_recent_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="otp_expires_after_creation"
            ),
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(used_at__gte=F("created_at")),
                name="otp_used_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"code for {mask_phone(self.phone)} at {self.created_at:%Y-%m-%d %H:%M}"
