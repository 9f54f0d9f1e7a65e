from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Fulfilment


class IntakeForm(forms.Form):
    """The launch-hour submission, parsed without a query: the view finds the variant in
    the per-process catalogue, and the service and the database check the rules. The
    chooser's own fields (model, capacity, colour) ride along and are read only to show the
    choice again when a submission is refused."""

    STALE = _("This form is out of date. Choose again and press Reserve.")

    variant = forms.IntegerField(
        error_messages={"invalid": _("That model is not part of this campaign.")}
    )
    fulfilment = forms.ChoiceField(
        choices=Fulfilment.choices,
        error_messages={
            "required": _("Choose how you want to receive the phone."),
            "invalid_choice": _("This campaign does not offer that option."),
        },
    )
    # Minted when the form is shown; a resubmission of the same form finds the same reservation.
    idempotency_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={"required": STALE, "invalid": STALE},
    )
