"""The order admin's forward moves. Orders registers the read-only order admin; fulfilment,
which owns every forward move, registers it again with one action per door
(fulfillment.services.moves), so staff reach no move except through the rules of its door."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from orders.admin import OrderAdmin
from orders.models import Order, OrderStatus
from orders.services import Actor
from preorder_shop import personal_data
from preorder_shop.exceptions import DomainError

from . import manifest
from .services import moves

S = OrderStatus


class MoveForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    courier = forms.CharField(label=_("Courier"), required=False, max_length=50)
    tracking_number = forms.CharField(label=_("Tracking number"), required=False, max_length=50)


def _start_preparing(order, user, data):
    return moves.start_preparing(order=order, actor=Actor.staff(user), reason=data["reason"])


def _hand_over(order, user, data):
    return moves.hand_over(
        order=order,
        actor=Actor.staff(user),
        reason=data["reason"],
        courier=data["courier"],
        tracking_number=data["tracking_number"],
    )


def _confirm_delivery(order, user, data):
    return moves.confirm_delivery(order=order, actor=Actor.staff(user), reason=data["reason"])


def _cancel(order, user, data):
    return moves.cancel_by_staff(order=order, staff_user=user, reason=data["reason"])


admin.site.unregister(Order)


@admin.register(Order)
class FulfilmentOrderAdmin(OrderAdmin):
    actions = ["to_preparing", "to_shipped", "to_delivered", "to_cancelled", "courier_manifest"]

    def get_urls(self):
        return [
            path(
                "courier-manifest/",
                self.admin_site.admin_view(self.courier_manifest_view),
                name="orders_order_courier_manifest",
            ),
            *super().get_urls(),
        ]

    def get_fields(self, request, obj=None):
        return [*super().get_fields(request, obj), "hold_link"]

    @admin.display(description=_("hold"))
    def hold_link(self, obj: Order) -> str:
        if not obj.number or obj.status not in (S.RECEIVED, S.PREPARING):
            return "—"
        url = reverse("admin:fulfillment_orderhold_place") + f"?order={obj.number}"
        return format_html('<a href="{}">{}</a>', url, _("Put this order on hold"))

    def _move(self, request, queryset, door, title, *, needs_tracking=False, note=""):
        form = MoveForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done, refused = 0, []
            # Lowest positions first: a selection that moves in queue order passes nobody.
            for order in queryset.select_related("reservation").order_by("reservation__position"):
                try:
                    door(order, request.user, form.cleaned_data)
                except DomainError as exc:
                    refused.append(f"{order}: {exc.message}")
                else:
                    done += 1
            if done:
                self.message_user(
                    request,
                    ngettext("%(n)d order moved.", "%(n)d orders moved.", done) % {"n": done},
                    messages.SUCCESS,
                )
            for line in refused:
                self.message_user(request, line, messages.ERROR)
            return None
        return TemplateResponse(
            request,
            "admin/fulfillment/order_move.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "orders": queryset,
                "form": form,
                "action": request.POST["action"],
                "needs_tracking": needs_tracking,
                "move_note": note,
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Move to preparing"), permissions=["transition"])
    def to_preparing(self, request, queryset):
        note = _(
            "Only orders that hold a unit of their model and are not on hold can be prepared. "
            "Moving an order past lower positions that are ready and waiting is recorded as a "
            "queue exception with your reason."
        )
        return self._move(request, queryset, _start_preparing, _("Move to preparing"), note=note)

    @admin.action(description=_("Hand to courier (shipped)"), permissions=["transition"])
    def to_shipped(self, request, queryset):
        note = _("An order on hold is not handed over: release its hold first.")
        return self._move(
            request, queryset, _hand_over, _("Hand to courier"), needs_tracking=True, note=note
        )

    @admin.action(
        description=_("Record courier's delivery confirmation"), permissions=["transition"]
    )
    def to_delivered(self, request, queryset):
        return self._move(request, queryset, _confirm_delivery, _("Record delivery confirmation"))

    @admin.action(description=_("Cancel orders"), permissions=["transition"])
    def to_cancelled(self, request, queryset):
        note = _(
            "Cancelling ends the order's hold, if any, and its unit goes to the next in line "
            "at once."
        )
        return self._move(request, queryset, _cancel, _("Cancel orders"), note=note)

    def has_transition_permission(self, request) -> bool:
        return request.user.has_perm("orders.transition_order")

    def has_export_personal_data_permission(self, request) -> bool:
        return personal_data.can_export(request.user)

    @admin.action(
        description=_("Courier manifest (CSV, recorded)"), permissions=["export_personal_data"]
    )
    def courier_manifest(self, request, queryset):
        """Asks first, on a page that says what the file holds; its form posts to the
        manifest view, which checks the permission itself (a 403, not a hidden action)."""
        ready = manifest.ready_to_ship(queryset)
        return TemplateResponse(
            request,
            "admin/preorder_shop/personal_data/manifest_confirm.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Courier manifest"),
                "opts": self.model._meta,
                "orders": ready,
                "skipped": queryset.count() - len(ready),
                "customers": len({order.reservation.customer_id for order in ready}),
            },
        )

    def courier_manifest_view(self, request):
        if not (self.has_view_permission(request) and personal_data.can_export(request.user)):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:orders_order_changelist")
        ids = [pk for pk in request.POST.getlist("order") if pk.isdigit() and len(pk) < 19]
        orders = manifest.ready_to_ship(Order.objects.filter(pk__in=ids))
        if not orders:
            self.message_user(
                request, _("None of these orders is ready to hand to a courier."), messages.WARNING
            )
            return redirect("admin:orders_order_changelist")
        name, text = manifest.export_manifest(
            staff_user=request.user, orders=orders, request=request
        )
        response = HttpResponse(text.encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
