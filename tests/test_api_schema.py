"""schemathesis against the live schema (issue 13, item 3): every operation of
/api/v1/openapi.json, loaded from the WSGI app, is called with a signed-in customer's token
and generated inputs. No answer is a 5xx, and every answer conforms to the schema: a
documented status code, the documented content type and a body its schema allows.

Bounded and reproducible: a fixed number of examples per operation, derandomized, so the
same commit makes the same requests. Generated inputs rarely name a real reservation or
order, so the customer journey (reserve -> open the draft -> save -> submit -> status) is
walked explicitly too, each step through the same schema and the same checks.
"""

import uuid

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orders.models import OrderStatus as S
from orders.tests.factories import RatePlanFactory, order_in
from preorder_shop import tokens
from preorder_shop.tests.factories import CustomerFactory
from reservations.tests.factories import CampaignFactory, VariantFactory
from support.models import TicketStatus
from support.tests.factories import ticket_in

pytestmark = pytest.mark.django_db

SCHEMA_PATH = "/api/v1/openapi.json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 50


# The live schema, as the app serves it: loaded through Django's own WSGI handler.
schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """The WSGI handler resets the database connection around each request; the test's
    transaction must survive it (django.test.Client disconnects the same signals)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# The real objects of the signed-in customer, by path parameter name: generated path
# parameters are swapped for one of these half the time (flatmap_path_parameters below), so
# the fuzzing reaches a live draft, an order and an open campaign, not only 404s.
REAL_PATH_VALUES: dict[str, list] = {}


@pytest.fixture
def bearer():
    """A signed-in customer's token; the customer holds a reservation with a draft, one
    with a shipped order and one with a received order, an answered and a closed ticket,
    and a campaign with two variants is open for reservations."""
    customer = CustomerFactory()
    draft = order_in(S.DRAFT, reservation__customer=customer)
    shipped = order_in(S.SHIPPED, reservation__customer=customer)
    received = order_in(S.RECEIVED, reservation__customer=customer)  # its address may change
    answered = ticket_in(TicketStatus.ANSWERED, customer=customer)
    closed = ticket_in(TicketStatus.CLOSED, customer=customer)
    campaign = CampaignFactory()
    VariantFactory.create_batch(2, campaign=campaign)
    _token, raw = tokens.issue(customer, device="schemathesis")
    REAL_PATH_VALUES.update(
        slug=[campaign.slug, draft.reservation.campaign.slug],
        number=[
            draft.reservation.number,
            shipped.reservation.number,
            shipped.number,
            received.number,
            answered.number,
            closed.number,
        ],
        token_id=[_token.pk],
    )
    yield {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}
    REAL_PATH_VALUES.clear()


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    real = {n: REAL_PATH_VALUES[n] for n in path_parameters or () if n in REAL_PATH_VALUES}
    if not real:
        return st.just(path_parameters)
    chosen = st.fixed_dictionaries({name: st.sampled_from(v) for name, v in real.items()})
    return st.one_of(st.just(path_parameters), chosen.map(lambda r: {**path_parameters, **r}))


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_schema_says(case, bearer):
    case.call_and_validate(headers=bearer, checks=CHECKS)


def call(method: str, path: str, **request) -> schemathesis.Response:
    """One request built from the schema's own operation, its answer checked as above."""
    case = schema[path][method].Case(**request)
    return case.call_and_validate(checks=CHECKS)


def header(response: schemathesis.Response, name: str) -> str:
    return response.headers[name.lower()][0]


def test_the_customer_journey_answers_as_the_schema_says():
    variant = VariantFactory()
    slug = variant.campaign.slug
    plan = RatePlanFactory(campaign=variant.campaign)
    customer = CustomerFactory()
    _token, raw = tokens.issue(customer, device="journey")
    auth = {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}

    campaign = call(
        "GET", "/api/v1/campaigns/{slug}", path_parameters={"slug": slug}, headers=auth
    )
    assert campaign.json()["can_reserve"]["allowed"] is True

    reserve = {
        "path_parameters": {"slug": slug},
        "headers": {**auth, "Idempotency-Key": str(uuid.uuid4())},
        "body": {"variant_id": variant.pk, "fulfilment": "courier"},
    }
    reserved = call("POST", "/api/v1/campaigns/{slug}/reservations", **reserve)
    assert reserved.status_code == 201
    number = reserved.json()["number"]
    retried = call("POST", "/api/v1/campaigns/{slug}/reservations", **reserve)
    assert (retried.status_code, retried.json()["number"]) == (200, number)

    mine = call("GET", "/api/v1/reservations", headers=auth)
    assert [r["number"] for r in mine.json()["items"]] == [number]
    reservation = {"path_parameters": {"number": number}, "headers": auth}
    one = call("GET", "/api/v1/reservations/{number}", **reservation)
    assert int(header(one, "Poll-Interval")) == one.json()["poll_interval"]

    form = "/api/v1/reservations/{number}/order-form"
    opened = call("POST", form, **reservation)
    assert opened.status_code == 201
    assert call("POST", form, **reservation).status_code == 200  # resumes the one draft
    saved = call("PATCH", form, **reservation, body={"plan": plan.pk, "join_type": "new_line"})
    assert {"plan", "join_type"}.isdisjoint(saved.json()["missing"])
    assert "address_line1" in saved.json()["missing"]
    address = {
        "recipient_name": "홍길동",
        "recipient_phone": "010-1234-5678",
        "postcode": "04524",
        "address_line1": "서울특별시 중구 세종대로 110",
    }
    call("PATCH", form, **reservation, body=address)
    assert call("GET", form, **reservation).json()["missing"] == {}

    submitted = call("POST", f"{form}/submit", **reservation)
    assert submitted.status_code == 201
    order_number = submitted.json()["order_number"]
    assert header(submitted, "Location") == f"/api/v1/orders/{order_number}"
    assert call("POST", f"{form}/submit", **reservation).status_code == 200  # the same order

    order = {"path_parameters": {"number": order_number}, "headers": auth}
    status = call("GET", "/api/v1/orders/{number}", **order)
    assert status.json()["status"] == "received"
    assert int(header(status, "Poll-Interval")) == status.json()["poll_interval"]
    etag = header(status, "ETag")
    unchanged = call(
        "GET",
        "/api/v1/orders/{number}",
        path_parameters={"number": order_number},
        headers={**auth, "If-None-Match": etag},
    )
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    assert header(unchanged, "ETag") == etag
