"""The support desk's figures page in admin (support/figures_admin.py): the figures of
support.figures as charts and tables, its campaign picker and since-date, refused input,
the link from the support index, and who may read it."""

import pytest
from django.urls import reverse

from support import figures
from support.models import Ticket, TicketCategory
from support.tests.test_figures import DAY1, build_desk, kst
from tests.admin_client import make_staff

pytestmark = pytest.mark.django_db

C = TicketCategory


@pytest.fixture
def desk():
    """The campaign and tickets of test_figures (opened 2026-09-18 to 22), seen now."""
    return build_desk()


PAGE = "admin:support_ticket_figures"


@pytest.fixture
def agent(client):
    return make_staff(client, "figures-agent", ["view_ticket"])


def test_the_page_shows_the_campaigns_figures_as_charts_and_tables(agent, desk):
    response = agent.get(reverse(PAGE), {"campaign": desk.slug, "since": "2026-09-21"})

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('role="img"') == 5
    assert 'id="chart-opened"' in html and 'id="chart-within-sla"' in html
    assert '<desc id="chart-backlog-desc">' in html
    categories = response.context["categories"]
    wimp = next(row for row in categories if row["label"] == C.WHERE_IS_MY_PHONE.label)
    # As of now (months later): F and G are past their first response's deadline too, so
    # every first response is decided: A missed, B and C met.
    assert (wimp["opened"], wimp["p50"], wimp["within_sla"]) == ("3", "120 min", "67%")
    assert response.context["total"]["deflection_rate"] == "40%"  # 12:30's counts now: 4/10
    assert response.context["backlog_total"] == (0, 0, 0, 0, 4)  # B, F, G, H: days ago
    expected = figures.desk_figures(campaign=desk, since=DAY1).unexplained
    listed = response.context["unexplained"]
    assert [b["number"] for b in listed] == [b.number for b in expected]
    a = Ticket.objects.get(created_at=kst(21, 0, 10))
    assert a.number in [b["number"] for b in listed]
    assert all(b["number"] in html and b["url"].endswith(f"?q={b['number']}") for b in listed)


def test_the_page_defaults_to_the_latest_campaign(agent, desk):
    response = agent.get(reverse(PAGE))

    assert response.status_code == 200
    assert response.context["campaign"] is not None
    assert response.context["figures"].since == figures.default_since(response.context["campaign"])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"campaign": "nope"}, "Select a valid choice"),
        ({"campaign": "\x00"}, "Null characters are not allowed."),
        ({"campaign": "x" * 5000}, "Select a valid choice"),
        ({"since": "\x00"}, "Enter a valid date"),
        ({"since": "21.09.2026"}, "Enter a valid date"),
        ({"since": "2999-01-01"}, "The first day cannot be after today."),
    ],
)
def test_bad_input_is_an_error_on_the_form_and_no_figures(agent, desk, query, message):
    response = agent.get(reverse(PAGE), query)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["figures"] is None


def test_the_support_index_links_to_the_page(agent):
    response = agent.get(reverse("admin:app_list", kwargs={"app_label": "support"}))

    assert reverse(PAGE) in response.content.decode()


def test_staff_without_view_ticket_may_not_see_it(client):
    make_staff(client, "ops", ["view_order"])

    assert client.get(reverse(PAGE)).status_code == 403
