from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from preorder_shop.phone import normalize_mobile
from reservations.models import Fulfilment, Reservation

from .models import Order
from .services import ADDRESS_FIELDS, DRAFT_FIELDS


class OrderForm(forms.ModelForm):
    """Every field optional here: drafts save half-done answers. What a complete form needs
    is decided by orders.services.missing_fields when the customer submits."""

    class Meta:
        model = Order
        fields = DRAFT_FIELDS
        widgets = {
            "join_type": forms.RadioSelect,
            "plan": forms.RadioSelect,
            "postcode": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 5}),
            "recipient_phone": forms.TextInput(attrs={"inputmode": "tel"}),
            "port_in_number": forms.TextInput(attrs={"inputmode": "tel"}),
        }

    def __init__(self, *args, reservation: Reservation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        plans = reservation.campaign.rate_plans.filter(is_active=True)
        self.fields["plan"].queryset = plans
        self.fields["plan"].empty_label = None
        self.fields["plan"].label_from_instance = lambda p: (
            f"{p.name} · ₩{p.monthly_fee_krw:,}/{_('month')} · {p.data_label}"
        )
        self.fields["join_type"].choices = self.fields["join_type"].choices[1:]  # no blank
        for field in self.fields.values():
            field.required = False
        if reservation.fulfilment == Fulfilment.FESTIVAL:
            for name in ADDRESS_FIELDS:
                del self.fields[name]

    def _clean_mobile(self, name: str) -> str:
        raw = self.cleaned_data.get(name, "")
        return normalize_mobile(raw) if raw else ""

    def clean_recipient_phone(self) -> str:
        return self._clean_mobile("recipient_phone")

    def clean_port_in_number(self) -> str:
        return self._clean_mobile("port_in_number")

    def clean_postcode(self) -> str:
        postcode = self.cleaned_data.get("postcode", "").strip()
        if postcode and not (postcode.isascii() and postcode.isdigit() and len(postcode) == 5):
            raise ValidationError(_("A postcode has exactly 5 digits."), code="postcode")
        return postcode

    def valid_values(self) -> dict:
        """The fields that passed validation: a draft saves these even if others failed."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in self.fields and name not in self.errors
        }
