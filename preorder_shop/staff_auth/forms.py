from django import forms
from django.contrib.auth.forms import UsernameField
from django.utils.translation import gettext_lazy as _


class StaffSignInForm(forms.Form):
    """One form for both factors, so a throttled account is still judged on all of them."""

    username = UsernameField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=_("Two-factor code"),
        max_length=32,
        required=False,
        help_text=_(
            "The 6-digit code from your authenticator app, or one of your recovery codes. "
            "Leave it empty only if you have not set up two-factor sign-in yet."
        ),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )


class ConfirmDeviceForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
