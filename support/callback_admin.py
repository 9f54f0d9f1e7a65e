"""Callbacks in admin (issue 15, section 4). Slots: staff set each half hour's capacity
(never below its bookings: support.services.callbacks.set_capacity, the slot row locked in
admin's transaction) and create a day's slots over its staffed hours at once. A slot's
bookings page is the agents' call list: each booking's "Call" is the recorded call door of
preorder_shop.personal_data_admin (the number goes to the phone, never to the page, and the
call is a row of the personal-data access log), then "Record outcome" (kept or missed, an
internal note on the ticket; missed offers the customer a new time). Bookings are made by
customers only and never deleted (the database refuses)."""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from preorder_shop import personal_data
from preorder_shop.admin_filters import CheckedFilters
from preorder_shop.exceptions import DomainError
from preorder_shop.personal_data_admin import PersonalDataAdminMixin, customer_disclosure

from .models.callbacks import OUTCOMES, SLOT_MINUTES, CallbackBooking, CallbackSlot
from .services import callbacks

# How far ahead a day's slots may be created.
MAX_AHEAD = dt.timedelta(days=366)


class SlotForm(forms.ModelForm):
    class Meta:
        model = CallbackSlot
        fields = ["starts_at", "capacity"]

    def clean_starts_at(self):
        starts_at = self.cleaned_data["starts_at"]
        if starts_at.timestamp() % (SLOT_MINUTES * 60):
            raise forms.ValidationError(
                _("A slot starts on the hour or at half past."), code="not_aligned"
            )
        return starts_at

    def clean_capacity(self) -> int:
        capacity = self.cleaned_data["capacity"]
        if self.instance.pk:
            # Locked until admin's transaction ends, so no booking slips in before the save.
            locked = CallbackSlot.objects.select_for_update().get(pk=self.instance.pk)
            try:
                callbacks.check_capacity(slot=locked, capacity=capacity)
            except DomainError as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from exc
        return capacity


class DayForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    capacity = forms.IntegerField(label=_("Capacity of each half hour"), min_value=0, initial=4)

    def clean_day(self) -> dt.date:
        day = self.cleaned_data["day"]
        today = timezone.localdate()
        if not today <= day <= today + MAX_AHEAD:
            raise forms.ValidationError(
                _("Choose a day from today to a year from now."), code="day_out_of_range"
            )
        return day


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(o.value, o.label) for o in OUTCOMES],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=callbacks.MAX_NOTE, widget=forms.Textarea
    )


@admin.register(CallbackSlot)
class CallbackSlotAdmin(CheckedFilters, admin.ModelAdmin):
    form = SlotForm
    list_display = ["starts_at", "capacity", "booked", "free", "bookings_link"]
    date_hierarchy = "starts_at"
    ordering = ["starts_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["starts_at", "booked"] if obj else []

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "create-day/", wrap(self.create_day_view), name="support_callbackslot_create_day"
            ),
            path(
                "<int:slot_id>/bookings/",
                wrap(self.bookings_view),
                name="support_callbackslot_bookings",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("free"))
    def free(self, obj: CallbackSlot) -> int:
        return obj.free

    @admin.display(description=_("bookings"))
    def bookings_link(self, obj: CallbackSlot) -> str:
        url = reverse("admin:support_callbackslot_bookings", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Call list"))

    def save_model(self, request, obj, form, change):
        if change:
            callbacks.set_capacity(slot=obj, capacity=obj.capacity)
        else:
            super().save_model(request, obj, form, change)

    def create_day_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = DayForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                made = callbacks.create_day_slots(
                    day=form.cleaned_data["day"], capacity=form.cleaned_data["capacity"]
                )
            except DomainError as exc:
                form.add_error("day", exc.message)
            else:
                self.message_user(
                    request,
                    _("%(count)d slots created (slots that existed are unchanged).")
                    % {"count": len(made)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:support_callbackslot_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Create a day's callback slots"),
            "form": form,
        }
        return TemplateResponse(request, "admin/support/callback_create_day.html", context)

    def bookings_view(self, request, slot_id: int):
        booking_admin = self.admin_site._registry[CallbackBooking]
        if not booking_admin.has_view_permission(request):
            raise PermissionDenied
        slot = get_object_or_404(CallbackSlot, pk=slot_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": slot,
            "title": _("Calls of %(slot)s") % {"slot": callbacks.slot_label(slot)},
            "bookings": slot.bookings.select_related("ticket", "ticket__customer", "recorded_by")
            .exclude(status="cancelled")
            .order_by("booked_at", "pk"),
            "can_call": booking_admin.can_call(request),
            "can_record": booking_admin.has_change_permission(request),
            "started": timezone.now() >= slot.starts_at,
        }
        return TemplateResponse(request, "admin/support/callback_bookings.html", context)


@admin.register(CallbackBooking)
class CallbackBookingAdmin(CheckedFilters, PersonalDataAdminMixin, admin.ModelAdmin):
    list_display = ["slot", "ticket", "masked_contact", "status", "outcome_at", "recorded_by"]
    list_filter = ["status"]
    fields = [
        "slot",
        "ticket",
        "masked_contact",
        "status",
        "booked_at",
        "reminded_at",
        "cancelled_at",
        "outcome_at",
        "outcome_note",
        "recorded_by",
    ]
    readonly_fields = fields
    list_select_related = ["slot", "ticket", "ticket__customer", "recorded_by"]

    def has_add_permission(self, request):
        return False  # customers book

    def has_delete_permission(self, request, obj=None):
        return False  # a cancel is a status; the database refuses deletes

    def get_urls(self):
        return [
            path(
                "<int:booking_id>/outcome/",
                self.admin_site.admin_view(self.outcome_view),
                name="support_callbackbooking_outcome",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("customer"))
    def masked_contact(self, obj: CallbackBooking) -> str:
        return obj.ticket.masked_contact

    def can_call(self, request) -> bool:
        return personal_data.can_call(request.user)

    def disclosure(self, obj: CallbackBooking):
        return customer_disclosure(obj.ticket.customer, f"callback {obj.pk} {obj.ticket.number}")

    def call_target(self, obj: CallbackBooking) -> tuple[str, str]:
        return "customer.phone", obj.ticket.customer.phone

    def outcome_view(self, request, booking_id: int):
        if not self.has_change_permission(request):
            raise PermissionDenied
        booking = get_object_or_404(
            CallbackBooking.objects.select_related("slot", "ticket"), pk=booking_id
        )
        form = OutcomeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                callbacks.record_outcome(
                    booking=booking,
                    staff_user=request.user,
                    outcome=form.cleaned_data["outcome"],
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, _("The call's outcome is recorded."), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:support_callbackslot_bookings", args=[booking.slot_id])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": booking,
            "title": _("Outcome of the call about %(ticket)s") % {"ticket": booking.ticket},
            "form": form,
            "list_url": reverse("admin:support_callbackslot_bookings", args=[booking.slot_id]),
        }
        return TemplateResponse(request, "admin/support/callback_outcome.html", context)
