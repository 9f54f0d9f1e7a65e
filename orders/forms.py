from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from preorder_shop.money import per_month
from preorder_shop.phone import national_format, normalize_mobile
from reservations.models import Fulfilment, Reservation

from .models import ADDRESS_FIELDS, DRAFT_FIELDS, JoinType, Order

# Asked only when the customer keeps their number (the page hides them otherwise).
PORT_IN_FIELDS = ["port_in_carrier", "port_in_number"]


class DeliveryCleaning:
    """The delivery fields' own rules and messages, shared by the order form and the
    address change (orders.services.address), so they are written once."""

    def _clean_mobile(self, name: str) -> str:
        raw = self.cleaned_data.get(name, "")
        return normalize_mobile(raw) if raw else ""

    def clean_recipient_phone(self) -> str:
        return self._clean_mobile("recipient_phone")

    def clean_postcode(self) -> str:
        postcode = self.cleaned_data.get("postcode", "").strip()
        if postcode and not (postcode.isascii() and postcode.isdigit() and len(postcode) == 5):
            raise ValidationError(_("A postcode has exactly 5 digits."), code="postcode")
        return postcode


DELIVERY_WIDGETS = {
    "postcode": forms.TextInput(attrs={"inputmode": "numeric", "maxlength": 5}),
    "recipient_phone": forms.TextInput(attrs={"inputmode": "tel"}),
}


class OrderForm(DeliveryCleaning, forms.ModelForm):
    """Every field optional here: drafts save half-done answers. What a complete form needs
    is decided by orders.services.missing_fields when the customer submits.

    The port-in fields stay on the page (hidden unless "keep my number" is chosen), so what
    the customer typed there survives a change of mind; while another way of joining is
    chosen they are not judged (a half-typed number must not block the form) and not
    submitted."""

    class Meta:
        model = Order
        fields = DRAFT_FIELDS
        widgets = {
            "join_type": forms.RadioSelect,
            "plan": forms.RadioSelect,
            **DELIVERY_WIDGETS,
            "port_in_number": forms.TextInput(attrs={"inputmode": "tel"}),
        }

    def __init__(self, *args, reservation: Reservation, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        plans = reservation.campaign.rate_plans.filter(is_active=True)
        self.fields["plan"].queryset = plans
        self.fields["plan"].empty_label = None
        self.fields["plan"].label_from_instance = lambda p: (
            f"{p.name} · {per_month(p.monthly_fee_krw)} · {p.data_label}"
        )
        self.fields["join_type"].choices = self.fields["join_type"].choices[1:]  # no blank
        for field in self.fields.values():
            field.required = False
        if reservation.fulfilment == Fulfilment.FESTIVAL:
            for name in ADDRESS_FIELDS:
                del self.fields[name]

    def clean_port_in_number(self) -> str:
        return self._clean_mobile("port_in_number")

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.ports_in():
            for name in PORT_IN_FIELDS:
                self.errors.pop(name, None)
        return cleaned

    def ports_in(self) -> bool:
        return self.cleaned_data.get("join_type") == JoinType.PORT_IN

    def port_in_fields(self) -> list:
        return [self[name] for name in PORT_IN_FIELDS]

    def delivery_fields(self) -> list:
        return [self[name] for name in ADDRESS_FIELDS if name in self.fields]

    def submitted_values(self) -> dict:
        """valid_values for the submit: the port-in answers only when porting in."""
        values = self.valid_values()
        if not self.ports_in():
            values.update(dict.fromkeys(PORT_IN_FIELDS, ""))
        return values

    def valid_values(self) -> dict:
        """The fields that passed validation: a draft saves these even if others failed."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in self.fields and name not in self.errors
        }


class DeliveryAddressForm(DeliveryCleaning, forms.ModelForm):
    """A received order's new delivery address: the order form's delivery fields with its
    rules. Every field optional here, as on the order form: what a delivery needs is
    judged by orders.services.missing_fields, with the submit's messages."""

    class Meta:
        model = Order
        fields = ADDRESS_FIELDS
        widgets = DELIVERY_WIDGETS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
        if not self.is_bound and self.instance.recipient_phone:  # as the customer types it
            self.initial["recipient_phone"] = national_format(self.instance.recipient_phone)


class StaffAddressForm(DeliveryAddressForm):
    """The admin's "Change delivery address": the new details as the customer gives them,
    and the reason (a ticket number, a call) kept in the order's address history."""

    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=500,
        required=False,  # the service says it is missing, in its words
        help_text=_("Kept in the order's address history, e.g. the ticket number."),
    )
