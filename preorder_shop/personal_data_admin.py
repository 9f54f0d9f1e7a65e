"""The admin side of preorder_shop.personal_data: a mixin for a ModelAdmin whose objects
hold one customer's personal data. Its change page gets "Show full details" (a reason's
form; the full values in the response to it, recorded) and "Call" (recorded, then handed to
the phone as a tel: redirect, so the number is on no page). Both views are routed by the
ModelAdmin's get_urls through admin_site.admin_view, inside admin's own sign-in checks:

    admin:<app>_<model>_reveal   <object_id>/personal-data/   GET form, POST reveal
    admin:<app>_<model>_call     <object_id>/call/            POST only
"""

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from . import personal_data
from .models import Customer
from .personal_data import (
    MIN_REASON,
    REASON_MISSING,
    REVEAL_REASONS,
    Disclosure,
    ReasonMissing,
)
from .phone import national_format


class TelRedirect(HttpResponseRedirect):
    """A redirect to the phone's dialer: the number is in the Location header only."""

    allowed_schemes = ["tel"]


class RevealForm(forms.Form):
    reason_code = forms.ChoiceField(
        label=_("Reason"),
        required=False,
        choices=[("", "---------"), *((r.value, r.label) for r in REVEAL_REASONS)],
    )
    reason = forms.CharField(
        label=_("Why do you need the full details?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        required=False,  # an empty reason is a short one: clean_reason says so
        help_text=_("Kept with your name in the personal data access log."),
    )

    def clean_reason(self) -> str:
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) < MIN_REASON:
            raise forms.ValidationError(
                REASON_MISSING, code="too_short", params={"min": MIN_REASON}
            )
        return reason


class PersonalDataAdminMixin:
    """Subclasses say what an object discloses and which number a call dials."""

    change_form_template = "admin/preorder_shop/personal_data/change_form.html"

    def disclosure(self, obj) -> Disclosure:
        raise NotImplementedError

    def call_target(self, obj) -> tuple[str, str] | None:
        """(field name, E.164 number) a call dials, or None when there is none."""
        raise NotImplementedError

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/personal-data/",
                wrap(self.reveal_view),
                name="{}_{}_reveal".format(*info),
            ),
            path(
                "<path:object_id>/call/",
                wrap(require_POST(self.call_view)),
                name="{}_{}_call".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "personal_data_can_reveal": personal_data.can_reveal(request.user),
            "personal_data_can_call": personal_data.can_call(request.user),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _object_or_404(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return obj

    def _change_url(self, obj) -> str:
        info = self.opts.app_label, self.opts.model_name
        return reverse("admin:{}_{}_change".format(*info), args=[obj.pk])

    def reveal_view(self, request, object_id):
        obj = self._object_or_404(request, object_id)
        if not personal_data.can_reveal(request.user):
            raise PermissionDenied
        disclosure = self.disclosure(obj)
        if not disclosure.fields:
            self.message_user(request, _("There are no personal details to show."))
            return redirect(self._change_url(obj))
        form = RevealForm(request.POST if request.method == "POST" else None)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": _("Full details of %(object)s") % {"object": obj},
            "change_url": self._change_url(obj),
            "form": form,
        }
        if form.is_valid():
            try:
                personal_data.reveal(
                    staff_user=request.user,
                    disclosure=disclosure,
                    reason_code=form.cleaned_data["reason_code"],
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except ReasonMissing as exc:
                form.add_error("reason", exc.message)
            else:
                context["disclosed"] = disclosure.fields
        return TemplateResponse(request, "admin/preorder_shop/personal_data/reveal.html", context)

    def call_view(self, request, object_id):
        obj = self._object_or_404(request, object_id)
        if not personal_data.can_call(request.user):
            raise PermissionDenied
        target = self.call_target(obj)
        if target is None:
            self.message_user(request, _("There is no number to call."), messages.WARNING)
            return redirect(self._change_url(obj))
        field, number = target
        disclosure = self.disclosure(obj)
        personal_data.record_call(
            staff_user=request.user,
            customer=disclosure.customer,
            field=field,
            reference=disclosure.reference,
            request=request,
        )
        return TelRedirect(f"tel:{number}")


def customer_disclosure(customer: Customer, reference: str = "") -> Disclosure:
    """A customer's own name and number, as a change page reveals them."""
    label = Customer._meta.get_field
    return Disclosure(
        customer=customer,
        reference=reference or f"customer {customer.pk}",
        fields=[
            ("name", label("name").verbose_name, customer.name),
            ("phone", label("phone").verbose_name, national_format(customer.phone)),
        ],
    )
