"""Notices in admin: support agents write, publish and end them; messaging a notice's
customers is a preview of the count, then one set-based operation (support.notice_messaging)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from preorder_shop.admin_filters import CheckedFilters
from preorder_shop.exceptions import DomainError
from preorder_shop.models import OutboxMessage

from . import notice_messaging
from .models import Notice


@admin.register(Notice)
class NoticeAdmin(CheckedFilters, admin.ModelAdmin):
    """Support agents write, publish and end notices; "Message affected customers" opens a
    preview of how many will be messaged, and staff confirm that number (support.
    notice_messaging). A notice is never deleted: unpublish or end it instead (its messages
    refer to it)."""

    list_display = [
        "title_ko",
        "campaign",
        "scope",
        "severity",
        "starts_at",
        "ends_at",
        "published",
        "messaged_at",
    ]
    list_filter = ["published", "severity", "campaign"]
    list_select_related = ["campaign", "variant"]
    search_fields = ["title_ko", "title_en"]
    ordering = ["-starts_at"]
    fields = [
        "campaign",
        "variant",
        "fulfilment",
        "severity",
        "starts_at",
        "ends_at",
        "published",
        "title_ko",
        "body_ko",
        "title_en",
        "body_en",
        "created_by",
        "created_at",
        "updated_at",
        "message_link",
    ]
    readonly_fields = ["created_by", "created_at", "updated_at", "message_link"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj: Notice, form, change) -> None:
        if not change:
            obj.created_by = request.user
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.display(description=_("scope"))
    def scope(self, obj: Notice) -> str:
        return obj.scope_label

    def get_fields(self, request, obj=None):
        # Who may not message customers (an auditor) sees the count, not a link to a 403.
        if request.user.has_perm("support.message_customers"):
            return self.fields
        return [name if name != "message_link" else "messaged" for name in self.fields]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "messaged"]

    @admin.display(description=_("customers messaged"))
    def messaged(self, obj: Notice) -> int | str:
        if not obj.pk:
            return "—"
        return OutboxMessage.objects.filter(reference=f"notice:{obj.pk}").count()

    @admin.display(description=_("customers messaged"))
    def message_link(self, obj: Notice) -> str:
        if not obj.pk:
            return "—"
        url = reverse("admin:support_notice_message", args=[obj.pk])
        link = _("Message affected customers…")
        return format_html('{} · <a href="{}">{}</a>', self.messaged(obj), url, link)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/message/",
                self.admin_site.admin_view(self.message_view),
                name="support_notice_message",
            ),
            *super().get_urls(),
        ]

    def message_view(self, request, object_id):
        if not request.user.has_perm("support.message_customers"):
            raise PermissionDenied
        notice = self.get_object(request, object_id)
        if notice is None:
            raise Http404
        if request.method == "POST":
            form = MessageForm(request.POST)
            if form.is_valid():
                try:
                    sent = notice_messaging.publish_and_message(
                        notice_id=notice.pk,
                        staff_user=request.user,
                        expected=form.cleaned_data["expected"],
                    )
                except DomainError as exc:
                    self.message_user(request, exc.message, messages.ERROR)
                else:
                    self.message_user(
                        request,
                        ngettext(
                            "Published; %(n)d customer will be messaged.",
                            "Published; %(n)d customers will be messaged.",
                            sent.queued,
                        )
                        % {"n": sent.queued},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:support_notice_change", args=[notice.pk])
                    )
        notice.refresh_from_db()
        return TemplateResponse(
            request,
            "support/admin/notice_message.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Message the customers this notice concerns"),
                "opts": self.model._meta,
                "notice": notice,
                "count": notice_messaging.preview(notice=notice),
                "already": OutboxMessage.objects.filter(reference=f"notice:{notice.pk}").count(),
            },
        )


class MessageForm(forms.Form):
    expected = forms.IntegerField(min_value=0)
