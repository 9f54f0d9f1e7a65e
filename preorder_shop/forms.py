from django import forms
from django.utils.translation import gettext_lazy as _

from .phone import normalize_mobile


class RequestCodeForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "010-1234-5678"}
        ),
    )
    name = forms.CharField(
        label=_("Name"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )

    def clean_phone(self) -> str:
        return normalize_mobile(self.cleaned_data["phone"])

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Enter your name."), code="required")
        return name


class VerifyCodeForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=10,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("The code has exactly 6 digits."), code="format")
        return code
