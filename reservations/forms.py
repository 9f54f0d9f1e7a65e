from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Campaign, Fulfilment, Variant


class ReserveForm(forms.Form):
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
    # Minted when the form is shown; a resubmission of the same form finds the same reservation.
    idempotency_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form is out of date. Choose again and press Reserve."),
            "invalid": _("This form is out of date. Choose again and press Reserve."),
        },
    )

    def __init__(self, *args, campaign: Campaign | None = None, slug: str = "", **kwargs) -> None:
        """With `campaign`: the form shown on the campaign page. With only `slug`: the
        launch-hour submission, validated with one query that also loads the campaign
        (its window and fulfilment options are then checked by the service)."""
        super().__init__(*args, **kwargs)
        variant = self.fields["variant"]
        if campaign is None:
            variant.queryset = Variant.objects.select_related("campaign").filter(
                campaign__slug=slug
            )
            self.fields["fulfilment"].choices = Fulfilment.choices
            return
        variant.queryset = campaign.variants.order_by("model_name", "capacity_gb", "colour")
        variant.label_from_instance = lambda v: f"{v} · ₩{v.price_krw:,}"
        self.fields["fulfilment"].choices = campaign.fulfilment_choices()
        if len(self.fields["fulfilment"].choices) == 1:
            self.fields["fulfilment"].initial = self.fields["fulfilment"].choices[0][0]
