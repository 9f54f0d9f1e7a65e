from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Campaign, Fulfilment, Variant


class IntakeForm(forms.Form):
    """The launch-hour submission, parsed without a query: the view finds the variant in
    the per-process catalogue, and the service and the database check the rules."""

    variant = forms.IntegerField()
    fulfilment = forms.ChoiceField(choices=Fulfilment.choices)
    # Minted when the form is shown; a resubmission of the same form finds the same reservation.
    idempotency_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form is out of date. Choose again and press Reserve."),
            "invalid": _("This form is out of date. Choose again and press Reserve."),
        },
    )


class ReserveForm(IntakeForm):
    """The form on the campaign page, and its errors when a submission is refused."""

    variant = forms.ModelChoiceField(
        label=_("Model"),
        queryset=Variant.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"invalid_choice": _("That model is not part of this campaign.")},
    )
    fulfilment = forms.ChoiceField(
        label=_("How you receive the phone"),
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("This campaign does not offer that option.")},
    )

    def __init__(self, *args, campaign: Campaign, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        variant = self.fields["variant"]
        variant.queryset = campaign.variants.order_by("model_name", "capacity_gb", "colour")
        variant.label_from_instance = lambda v: f"{v} · ₩{v.price_krw:,}"
        self.fields["fulfilment"].choices = campaign.fulfilment_choices()
        if len(self.fields["fulfilment"].choices) == 1:
            self.fields["fulfilment"].initial = self.fields["fulfilment"].choices[0][0]
