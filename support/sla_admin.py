"""The SLA policy and the round-the-clock days in admin (issue 15, section 1): Support agents
and Auditors read them; Administrators change them, through support.services.policies (the
same checks as the form's, and the queue's deadlines restamped in the same transaction). The
default policy is never deleted (the database refuses too); a category's row may be, which
gives it the default's targets again. A declared round-the-clock period is a record: added,
never edited or deleted."""

from django import forms
from django.contrib import admin

from preorder_shop.admin_filters import CheckedFilters
from preorder_shop.exceptions import DomainError

from .models import RoundTheClock, SlaPolicy
from .services import policies


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = ["category", "first_response_minutes", "resolution_minutes", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "category" in self.fields:  # added here: always a category's difference
            self.fields["category"].required = True

    def clean(self):
        data = super().clean()
        category = data.get("category", self.instance.category) or None
        try:
            policies.check_policy(
                category=category,
                first_response_minutes=data.get("first_response_minutes") or 0,
                resolution_minutes=data.get("resolution_minutes") or 0,
                reason=data.get("reason") or "",
            )
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from exc
        return data


@admin.register(SlaPolicy)
class SlaPolicyAdmin(CheckedFilters, admin.ModelAdmin):
    form = SlaPolicyForm
    actions = None
    list_display = [
        "__str__",
        "first_response_minutes",
        "resolution_minutes",
        "reason",
        "decided_by",
        "decided_at",
    ]
    fields = [
        "category",
        "first_response_minutes",
        "resolution_minutes",
        "reason",
        "decided_by",
        "decided_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["decided_by", "decided_at"]
        return [*fixed, "category"] if obj is not None else fixed

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.category is None:
            return False  # the default stays
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj: SlaPolicy, form, change) -> None:
        saved = policies.set_policy(
            category=obj.category or None,
            first_response_minutes=obj.first_response_minutes,
            resolution_minutes=obj.resolution_minutes,
            reason=obj.reason,
            staff_user=request.user,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj: SlaPolicy) -> None:
        policies.remove_policy(policy=obj)


class RoundTheClockForm(forms.ModelForm):
    class Meta:
        model = RoundTheClock
        fields = ["campaign", "first_day", "last_day", "reason"]

    def clean(self):
        data = super().clean()
        if data.get("first_day") and data.get("last_day"):
            try:
                policies.check_period(
                    first_day=data["first_day"],
                    last_day=data["last_day"],
                    reason=data.get("reason") or "",
                )
            except DomainError as exc:
                raise forms.ValidationError(exc.message) from exc
        return data


@admin.register(RoundTheClock)
class RoundTheClockAdmin(CheckedFilters, admin.ModelAdmin):
    form = RoundTheClockForm
    actions = None
    list_display = ["campaign", "first_day", "last_day", "reason", "decided_by", "decided_at"]
    list_select_related = ["campaign", "decided_by"]
    fields = ["campaign", "first_day", "last_day", "reason", "decided_by", "decided_at"]
    readonly_fields = ["decided_by", "decided_at"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj: RoundTheClock, form, change) -> None:
        saved = policies.declare_round_the_clock(
            campaign=obj.campaign,
            first_day=obj.first_day,
            last_day=obj.last_day,
            reason=obj.reason,
            staff_user=request.user,
        )
        obj.pk = saved.pk
