"""schemathesis against the live schema (issue 13, item 3): every operation of
/api/v1/openapi.json, loaded from the WSGI app, is called with a signed-in customer's token
and generated inputs. No answer is a 5xx, and every answer conforms to the schema: a
documented status code, the documented content type and a body its schema allows.

Bounded and reproducible: a fixed number of examples per operation, derandomized, so the
same commit makes the same requests.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from preorder_shop import tokens
from preorder_shop.tests.factories import CustomerFactory
from reservations.tests.factories import CampaignFactory, VariantFactory

pytestmark = pytest.mark.django_db

SCHEMA_PATH = "/api/v1/openapi.json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 25


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


@pytest.fixture
def bearer():
    """A signed-in customer's token, with a campaign open for reservations beside it."""
    campaign = CampaignFactory()
    VariantFactory.create_batch(2, campaign=campaign)
    _token, raw = tokens.issue(CustomerFactory(), device="schemathesis")
    return {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}


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
