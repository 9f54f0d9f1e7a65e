from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Campaign


class ReserveForm(forms.Form):
    variant = forms.TypedChoiceField(
        label=_("Model"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("That model is not part of this campaign.")},
    )
    fulfilment = forms.ChoiceField(
        label=_("How you receive the phone"),
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("This campaign does not offer that option.")},
    )
    # Minted when the form is shown; a resubmission of the same form finds the same reservation.
    idempotency_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form is out of date. Choose again and press Reserve."),
            "invalid": _("This form is out of date. Choose again and press Reserve."),
        },
    )

    def __init__(self, *args, campaign: Campaign, variants, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = [(v.pk, f"{v} · ₩{v.price_krw:,}") for v in variants]
        self.fields["fulfilment"].choices = campaign.fulfilment_choices()
        if len(self.fields["fulfilment"].choices) == 1:
            self.fields["fulfilment"].initial = self.fields["fulfilment"].choices[0][0]
