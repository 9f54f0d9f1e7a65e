"""Any JSON at the API's sign-in doors is a 4xx problem, never a 500 (issue 13)."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

text = st.text(st.characters(exclude_categories=()), max_size=30)  # NUL, lone surrogates
value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), text),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner)),
    max_leaves=5,
)
field = st.one_of(st.sampled_from(["010-7123-4567", "123456", "김민수", "phone"]), value)
body = st.one_of(
    value,
    st.fixed_dictionaries({}, optional=dict.fromkeys(["phone", "name", "code", "device"], field)),
)


@given(payload=body, door=st.sampled_from(["code", "token"]))
@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_json_body_is_answered_without_a_server_error(payload, door):
    raw = json.dumps(payload).encode("utf-8", "surrogatepass")
    response = Client().post(f"/api/v1/auth/{door}", raw, content_type="application/json")
    assert response.status_code < 500, (payload, response.content)
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
