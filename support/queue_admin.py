"""The staff queue in admin (issue 15, section 2), mixed into the ticket admin
(support/admin.py): the queue page (tickets by SLA deadline, breached and 80% marked), "Take
next ticket" (a POST, on the queue page and on every ticket's page), and a ticket's
assignment page (release, reassign). Thin doors into support.queue and
support.services.assignment. Reading the queue is "view ticket" (agents, auditors); taking,
releasing and reassigning is working tickets ("change ticket", Support agents). Customers
appear masked, as everywhere in the ticket admin."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from preorder_shop.actors import Actor
from preorder_shop.exceptions import DomainError

from . import queue
from .models import Ticket
from .services import assignment, deadlines
from .sla import breached

PAGE_SIZE = 100


def _agents():
    """Active staff who may work tickets (assignment.AGENT_PERMISSION, directly or through
    a group)."""
    app_label, codename = assignment.AGENT_PERMISSION.split(".")
    perm = Permission.objects.filter(codename=codename, content_type__app_label=app_label)
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    return users.filter(
        Q(is_superuser=True) | Q(user_permissions__in=perm) | Q(groups__permissions__in=perm)
    ).distinct()


class AssignForm(forms.Form):
    to = forms.ModelChoiceField(label=_("Assign to"), queryset=None, required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = _agents().order_by("username")


class BreachForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the SLA breach"), widget=forms.Textarea(attrs={"rows": 3})
    )


class QueueTools:
    """Mixed into TicketAdmin."""

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("queue/", wrap(self.queue_view), name="support_ticket_queue"),
            path("take-next/", wrap(self.take_next_view), name="support_ticket_take_next"),
            path("<path:object_id>/assign/", wrap(self.assign_view), name="support_ticket_assign"),
            path(
                "<path:object_id>/sla-breach/",
                wrap(self.breach_view),
                name="support_ticket_sla_breach",
            ),
            *super().get_urls(),
        ]

    def get_fields(self, request, obj=None):
        return [*super().get_fields(request, obj), self._assigned(request), "sla_deadlines"]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [*fields, self._assigned(request), "sla_deadlines"]

    @staticmethod
    def _assigned(request: HttpRequest) -> str:
        # Agents get the tools with the name; anyone else (an auditor) the name alone, never
        # a button that answers 403.
        return "assignment" if assignment.is_agent(request.user) else "assignee_name"

    @admin.display(description=_("assigned to"))
    def assignee_name(self, obj: Ticket) -> str:
        return obj.assignee.get_username() if obj.assignee_id else "—"

    @admin.display(description=_("assigned to"))
    def assignment(self, obj: Ticket) -> str:
        who = self.assignee_name(obj)
        # The page's own form carries the CSRF token; this button posts it elsewhere.
        return format_html(
            '{} · <a href="{}">{}</a> · <a href="{}">{}</a> · <button type="submit" '
            'formaction="{}" formmethod="post">{}</button>',
            who,
            reverse("admin:support_ticket_assign", args=[obj.pk]),
            _("Release or reassign"),
            reverse("admin:support_ticket_queue"),
            _("Queue"),
            reverse("admin:support_ticket_take_next"),
            _("Take next ticket"),
        )

    @admin.display(description=_("SLA"))
    def sla_deadlines(self, obj: Ticket) -> str:
        def when(value):
            if value is None:
                return _("clock stopped")
            return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")

        missed = breached(obj, now=timezone.now())
        return format_html(
            "{}: {} · {}: {}{}{}{}",
            _("first response due"),
            when(obj.first_response_due_at),
            _("resolution due"),
            when(obj.resolution_due_at),
            format_html(" · <strong>{}</strong>", _("breached")) if missed else "",
            format_html(" · {}", obj.sla_breach_reason) if obj.sla_breach_reason else "",
            format_html(
                ' · <a href="{}">{}</a>',
                reverse("admin:support_ticket_sla_breach", args=[obj.pk]),
                _("Record the reason"),
            )
            if missed
            else "",
        )

    def queue_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        page = Paginator(
            queue.queue_tickets().select_related("customer", "assignee"), PAGE_SIZE
        ).get_page(request.GET.get("page"))
        tickets = list(page.object_list)
        rows = zip(tickets, queue.standings(tickets, now=now), strict=True)
        return TemplateResponse(
            request,
            "admin/support/queue.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Ticket queue by SLA deadline"),
                "opts": self.opts,
                "rows": rows,
                "page": page,
                "may_take": assignment.is_agent(request.user),
            },
        )

    def take_next_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not assignment.is_agent(request.user):
            raise PermissionDenied
        try:
            ticket = assignment.take_next(agent=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:support_ticket_queue"))
        if ticket is None:
            self.message_user(request, _("No unassigned ticket is waiting."), messages.INFO)
            return HttpResponseRedirect(reverse("admin:support_ticket_queue"))
        self.message_user(
            request,
            _("Ticket %(number)s is yours now.") % {"number": ticket.number},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:support_ticket_change", args=[ticket.pk]))

    def assign_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        ticket = self.get_object(request, unquote(object_id))
        if ticket is None:
            raise Http404
        if not (self.has_view_permission(request, ticket) and assignment.is_agent(request.user)):
            raise PermissionDenied
        change_url = reverse("admin:support_ticket_change", args=[ticket.pk])
        form = AssignForm(request.POST or None, initial={"to": ticket.assignee_id})
        if request.method == "POST" and form.is_valid():
            to, note = form.cleaned_data["to"], form.cleaned_data["note"]
            try:
                if to is None:
                    assignment.release(ticket=ticket, staff_user=request.user, note=note)
                else:
                    assignment.reassign(ticket=ticket, to=to, staff_user=request.user, note=note)
            except DomainError as exc:
                form.add_error("to", exc.message)
            else:
                self.message_user(request, _("Assignment saved."), messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        return TemplateResponse(
            request,
            "admin/support/ticket_assign.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Assign ticket %(number)s") % {"number": ticket.number},
                "opts": self.opts,
                "original": ticket,
                "change_url": change_url,
                "form": form,
            },
        )

    def breach_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        ticket = self.get_object(request, unquote(object_id))
        if ticket is None:
            raise Http404
        if not (self.has_view_permission(request, ticket) and assignment.is_agent(request.user)):
            raise PermissionDenied
        change_url = reverse("admin:support_ticket_change", args=[ticket.pk])
        form = BreachForm(request.POST or None, initial={"reason": ticket.sla_breach_reason})
        if request.method == "POST" and form.is_valid():
            try:
                deadlines.explain_breach(
                    ticket=ticket,
                    reason=form.cleaned_data["reason"],
                    actor=Actor.staff(request.user),
                )
            except DomainError as exc:
                form.add_error("reason", exc.message)
            else:
                self.message_user(request, _("Reason recorded."), messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        return TemplateResponse(
            request,
            "admin/support/ticket_assign.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Why ticket %(number)s missed its SLA") % {"number": ticket.number},
                "opts": self.opts,
                "original": ticket,
                "change_url": change_url,
                "form": form,
            },
        )
