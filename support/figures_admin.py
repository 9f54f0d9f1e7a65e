"""The support desk's figures in admin (issue 15, section 5): one campaign's figures
(support.figures, the same as `manage.py support_report`) since a day, as charts
(preorder_shop.charts) and tables. Mounted under the ticket admin (support/admin.py) and
linked from the support app's index; reading it is reading tickets ("view ticket": Support
agents, Auditors). Tickets appear by number only."""

import datetime as dt

from django import forms
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from preorder_shop import charts
from reservations.models import Campaign

from . import figures
from .models import Ticket
from .shifts import desk_zone

PERMISSION = "support.view_ticket"


def campaigns():
    return Campaign.objects.order_by("-launch_date", "-pk")


class FiguresForm(forms.Form):
    campaign = forms.ModelChoiceField(
        label=gettext_lazy("Campaign"),
        queryset=Campaign.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label=None,
    )
    since = forms.DateField(
        label=gettext_lazy("Since"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        help_text=gettext_lazy("First day (default: the day reservations opened)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns()

    def clean_since(self):
        since = self.cleaned_data["since"]
        if since and since > timezone.now().astimezone(desk_zone()).date():
            raise forms.ValidationError(_("The first day cannot be after today."))
        return since


def url(admin_site):
    """The page's URL, for the ticket admin's get_urls."""
    return path(
        "figures/",
        admin_site.admin_view(lambda request: figures_view(request, admin_site)),
        name="support_ticket_figures",
    )


def figures_view(request, admin_site):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    form = FiguresForm(request.GET or None)
    campaign, since, found = None, None, None
    if form.is_bound and form.is_valid():
        campaign = form.cleaned_data["campaign"] or campaigns().first()
        since = form.cleaned_data["since"]
    elif not form.is_bound:
        campaign = campaigns().first()
        form = FiguresForm(initial={"campaign": campaign})
    if campaign is not None:
        found = figures.desk_figures(campaign=campaign, since=since)
    return TemplateResponse(
        request,
        "admin/support/figures.html",
        {
            **admin_site.each_context(request),
            "title": _("Support desk figures"),
            "opts": Ticket._meta,
            "form": form,
            "campaign": campaign,
            "figures": found,
            **(_page(found) if found else {}),
        },
    )


def _page(found: figures.Figures) -> dict:
    default, differences = figures.policy_differences()
    return {
        "zone": desk_zone().key,
        "charts": _charts(found),
        "categories": [
            {"label": label, **_texts(found.cell(category=value))}
            for value, label in found.categories
        ],
        "total": {"label": _("All categories"), **_texts(found.cell())},
        "backlog_labels": [str(label) for label in figures.BACKLOG_LABELS],
        "backlog": [
            {"label": label, "counts": found.backlog_of(value)}
            for value, label in found.categories
        ],
        "backlog_total": found.backlog_of(),
        "default_policy": default,
        "differences": differences,
        "breaches": found.breaches,
        "unexplained": [
            {
                "number": b.number,
                "url": reverse("admin:support_ticket_changelist") + f"?q={b.number}",
                "first_response": b.first_response,
                "resolution": b.resolution,
            }
            for b in found.unexplained
        ],
    }


def _texts(cell: figures.Cell) -> dict:
    """A table row's figures as text in the active language."""
    return {
        "opened": formats.number_format(cell.opened, force_grouping=True),
        "answered": formats.number_format(cell.answered, force_grouping=True),
        "p50": _duration(cell.response_p50),
        "p90": _duration(cell.response_p90),
        "within_sla": _share(cell.within_sla),
        "decided": formats.number_format(cell.sla_decided, force_grouping=True),
        "deflected": formats.number_format(cell.deflected, force_grouping=True),
        "deflection_rate": _share(cell.deflection_rate),
        "kept": _share(cell.kept_rate),
        "callbacks": formats.number_format(cell.callbacks, force_grouping=True),
    }


def _charts(found: figures.Figures) -> list[charts.Chart]:
    days = found.days
    day_labels = [formats.date_format(day, "n/j") for day in days]
    cells = [found.cell(day) for day in days]
    categories = [found.cell(category=value) for value, _label in found.categories]
    return [
        charts.bar_chart(
            name="opened",
            title=_("Tickets opened and questions answered by an article, per day"),
            description=_("Every category, per day in %(zone)s.") % {"zone": desk_zone().key},
            labels=day_labels,
            series=[
                charts.Series(_("Tickets opened"), [c.opened for c in cells]),
                charts.Series(_("Answered by an article"), [c.deflected for c in cells]),
            ],
            counts=True,
        ),
        charts.line_chart(
            name="first-response",
            title=_("First response time, per day"),
            description=_(
                "Median (p50) and 90th percentile (p90) of the time to the first answer, in "
                "minutes, of tickets opened that day and answered since."
            ),
            labels=day_labels,
            series=[
                charts.Series(_("p50"), [_minutes(c.response_p50) for c in cells]),
                charts.Series(_("p90"), [_minutes(c.response_p90) for c in cells]),
            ],
            value_format=charts.minutes,
        ),
        charts.line_chart(
            name="within-sla",
            title=_("First responses within the SLA, per day"),
            description=_(
                "Share of the tickets opened that day whose first answer came by its deadline, "
                "of those answered or past their deadline."
            ),
            labels=day_labels,
            series=[charts.Series(_("Within the SLA"), [c.within_sla for c in cells])],
            value_format=charts.percent,
            maximum=1,
        ),
        charts.bar_chart(
            name="backlog",
            title=_("Backlog now, by wait"),
            description=_("Open tickets by how long they have waited since they last opened."),
            labels=[str(label) for label in figures.BACKLOG_LABELS],
            series=[charts.Series(_("Open tickets"), list(found.backlog_of()))],
            counts=True,
        ),
        charts.bar_chart(
            name="deflection",
            title=_("Deflection rate per category"),
            description=_(
                "Share of ended ticket-form attempts that a help article answered, per category."
            ),
            labels=[label for _value, label in found.categories],
            series=[charts.Series(_("Deflection rate"), [c.deflection_rate for c in categories])],
            value_format=charts.percent,
            maximum=1,
        ),
    ]


def _minutes(value: dt.timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 60


def _duration(value: dt.timedelta | None) -> str:
    return "—" if value is None else charts.minutes(value.total_seconds() / 60)


def _share(value: float | None) -> str:
    return "—" if value is None else charts.percent(value)
