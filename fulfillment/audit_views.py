"""The fairness audit's admin pages: the per-variant summary with unexplained pairs and
stock exceptions, and the stuck orders with the same stock exceptions and the open hold
alerts. Mounted by AllocationAdmin.get_urls (whoever may view allocations)."""

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from orders.models import Order
from reservations.models import Campaign

from . import audit
from .models import HoldAlert, OrderHold


def _chosen_campaign(request) -> Campaign | None:
    campaigns = Campaign.objects.order_by("-launch_date", "-pk")
    slug = request.GET.get("campaign")
    if slug:
        return campaigns.filter(slug=slug).first()
    return campaigns.first()


def fairness_view(request, admin_site):
    """The fairness audit of one campaign: per-variant summary and unexplained pairs."""
    if not request.user.has_perm("fulfillment.view_allocation"):
        raise PermissionDenied
    campaign = _chosen_campaign(request)
    report = audit.fairness_report(campaign=campaign, limit=100) if campaign else None
    return TemplateResponse(
        request,
        "admin/fulfillment/fairness.html",
        {
            **admin_site.each_context(request),
            "title": _("Fairness audit"),
            "campaigns": Campaign.objects.order_by("-launch_date", "-pk"),
            "campaign": campaign,
            "report": report,
            "reasons": audit.Justification.choices,
            "summary": [
                {
                    **vars(row),
                    "reason_counts": [row.justified[v] for v in audit.Justification.values],
                }
                for row in (report.variants if report else [])
            ],
        },
    )


def stuck_view(request, admin_site):
    """Received orders overtaken by a later position of their variant, oldest first; orders
    that moved on without a unit, oversold lots and variants; and the courier events for
    orders on hold that staff have not dealt with yet: everything that needs a person."""
    if not request.user.has_perm("fulfillment.view_allocation"):
        raise PermissionDenied
    campaign = _chosen_campaign(request)
    rows = audit.stuck_orders(campaigns=[campaign]) if campaign else []
    orders = Order.objects.select_related("reservation__customer", "reservation__variant").in_bulk(
        [r.order_id for r in rows]
    )
    on_hold = dict(
        OrderHold.objects.filter(
            order_id__in=[r.order_id for r in rows], released_at__isnull=True
        ).values_list("order_id", "reason")
    )
    labels = dict(audit.Justification.choices)
    lines = [
        {
            "order": orders[r.order_id],
            "customer": str(orders[r.order_id].reservation.customer),  # masked
            "position": r.position,
            "submitted_at": r.submitted_at,
            "overtaken_since": r.overtaken_since,
            "reasons": [labels[reason] for reason in r.reasons],
            "hold_reason": on_hold.get(r.order_id, ""),
            "unexplained": r.unexplained,
        }
        for r in rows
    ]
    alerts = (
        HoldAlert.objects.filter(
            resolved_at__isnull=True, hold__order__reservation__campaign=campaign
        )
        .select_related("hold__order__reservation__customer", "courier_event")
        .order_by("raised_at", "pk")
    )
    return TemplateResponse(
        request,
        "admin/fulfillment/stuck.html",
        {
            **admin_site.each_context(request),
            "title": _("Stuck orders"),
            "campaigns": Campaign.objects.order_by("-launch_date", "-pk"),
            "campaign": campaign,
            "lines": lines,
            "stock": audit.stock_exceptions(campaigns=[campaign], limit=100) if campaign else None,
            "alerts": [
                {
                    "alert": alert,
                    "order": alert.hold.order,
                    "customer": str(alert.hold.order.reservation.customer),  # masked
                    "event": alert.courier_event,
                }
                for alert in alerts
            ],
        },
    )
