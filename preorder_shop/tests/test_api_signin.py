"""The API's front door (issue 13): schema and docs, problem details, sign-in by code and
the token rules (hashed at rest, sliding expiry, revoke, one customer's token only)."""

import datetime as dt
import hashlib
import itertools

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from preorder_shop import tokens
from preorder_shop.models import ApiToken
from preorder_shop.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CODE = "/api/v1/auth/code"
TOKEN = "/api/v1/auth/token"
TOKENS = "/api/v1/auth/tokens"
SIGNOUT = "/api/v1/auth/signout"
PROBLEM = "application/problem+json"

_numbers = itertools.count(1)


def new_number() -> tuple[str, str]:
    n = next(_numbers)
    return f"010-7{n:03d}-{n:04d}", f"+82107{n:03d}{n:04d}"


@pytest.fixture
def api():
    return Client(headers={"accept-language": "en"})


@pytest.fixture(autouse=True)
def _show_code(settings):
    settings.OTP_SHOW_CODE_ON_PAGE = True


def bearer(raw: str) -> dict:
    return {"authorization": f"Bearer {raw}"}


def sign_in(api: Client, typed: str | None = None, *, device: str = "phone") -> dict:
    typed = typed or new_number()[0]
    sent = api.post(CODE, {"phone": typed, "name": "김민수"}, content_type="application/json")
    assert sent.status_code == 202, sent.content
    body = {"phone": typed, "name": "김민수", "code": sent.json()["dev_code"], "device": device}
    issued = api.post(TOKEN, body, content_type="application/json")
    assert issued.status_code == 201, issued.content
    return issued.json()


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["type"]
    return body


def test_the_schema_and_the_docs_page_are_served_from_this_repository(api):
    schema = api.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/auth/code", "/api/v1/auth/token", "/api/v1/auth/tokens"} <= set(spec["paths"])
    assert any(s.get("scheme") == "bearer" for s in spec["components"]["securitySchemes"].values())
    docs = api.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "/static/js/api-docs.js" in html
    assert "cdn" not in html.lower()
    assert "script-src 'self'" in docs["Content-Security-Policy"]
    assert finders.find("ninja/swagger-ui-bundle.js")
    assert finders.find("js/api-docs.js")


def test_the_order_status_path_is_the_apis():
    # The web page's old session JSON view is gone: its refresh is the page's htmx partial.
    assert resolve("/api/v1/orders/O-1").url_name == "order_status"


def test_a_token_is_issued_once_and_kept_only_as_its_hash(api):
    issued = sign_in(api)
    raw = issued["token"]
    stored = ApiToken.objects.get()
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.token_hash, stored.prefix, stored.device}
    assert raw.startswith(stored.prefix)
    assert issued["expires_after_idle_days"] == 30
    assert "sessionid" not in api.cookies or not api.cookies["sessionid"].value
    listed = api.get(TOKENS, headers=bearer(raw))
    assert listed.status_code == 200
    assert listed.json()["items"][0]["current"] is True
    assert "token" not in listed.json()["items"][0]


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer not-a-token", "Token abc", "Bearer " + "x" * 500],
)
def test_no_or_a_wrong_token_is_a_401_problem(api, header):
    headers = {"authorization": header} if header else {}
    response = api.get(TOKENS, headers=headers)
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_signed_in_web_session_does_not_authenticate_the_api(signed_in):
    assert_problem(signed_in.get(TOKENS), 401, "not_authenticated")


def test_expiry_slides_with_use_and_use_is_written_at_most_once_a_minute(api):
    raw = sign_in(api)["token"]
    now = timezone.now()
    ApiToken.objects.update(created_at=now - dt.timedelta(days=90))
    ApiToken.objects.update(last_used_at=now - dt.timedelta(days=29, hours=23))
    assert api.get(TOKENS, headers=bearer(raw)).status_code == 200
    touched = ApiToken.objects.get().last_used_at
    assert timezone.now() - touched < dt.timedelta(seconds=5)
    # Within the minute a poll does not write again.
    ApiToken.objects.update(last_used_at=now - dt.timedelta(seconds=30))
    assert api.get(TOKENS, headers=bearer(raw)).status_code == 200
    assert ApiToken.objects.get().last_used_at == now - dt.timedelta(seconds=30)
    # Thirty days without use and the token is dead.
    ApiToken.objects.update(last_used_at=now - tokens.IDLE_LIFETIME - dt.timedelta(seconds=1))
    assert_problem(api.get(TOKENS, headers=bearer(raw)), 401, "not_authenticated")


def test_sign_out_revokes_the_token_sent(api):
    raw = sign_in(api)["token"]
    other = sign_in(api, device="tablet")["token"]
    assert api.post(SIGNOUT, headers=bearer(raw)).status_code == 204
    assert_problem(api.get(TOKENS, headers=bearer(raw)), 401, "not_authenticated")
    assert api.get(TOKENS, headers=bearer(other)).status_code == 200
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 1


def test_a_device_is_revoked_by_id_and_another_customers_token_is_a_404(api):
    typed, _ = new_number()
    mine = sign_in(api, typed, device="phone")
    tablet = sign_in(api, typed, device="tablet")
    theirs = sign_in(api, device="theirs")
    foreign = api.delete(f"{TOKENS}/{theirs['device']['id']}", headers=bearer(mine["token"]))
    assert_problem(foreign, 404, "not_found")
    unknown = api.delete(f"{TOKENS}/999999999", headers=bearer(mine["token"]))
    assert unknown.json() == foreign.json()
    assert api.get(TOKENS, headers=bearer(theirs["token"])).status_code == 200
    gone = api.delete(f"{TOKENS}/{tablet['device']['id']}", headers=bearer(mine["token"]))
    assert gone.status_code == 204
    assert_problem(api.get(TOKENS, headers=bearer(tablet["token"])), 401, "not_authenticated")
    # Another customer's token never shows this customer's devices.
    seen = api.get(TOKENS, headers=bearer(theirs["token"])).json()["items"]
    assert [t["device"] for t in seen] == ["theirs"]


def test_the_device_list_is_cursor_paginated(api):
    customer = CustomerFactory()
    raws = [tokens.issue(customer, device=f"d{i}")[1] for i in range(5)]
    first = api.get(TOKENS, {"limit": 2}, headers=bearer(raws[0])).json()
    assert [t["device"] for t in first["items"]] == ["d4", "d3"]
    second = api.get(TOKENS, {"limit": 2, "cursor": first["next_cursor"]}, headers=bearer(raws[0]))
    assert [t["device"] for t in second.json()["items"]] == ["d2", "d1"]
    last = api.get(
        TOKENS, {"limit": 2, "cursor": second.json()["next_cursor"]}, headers=bearer(raws[0])
    )
    assert [t["device"] for t in last.json()["items"]] == ["d0"]
    assert last.json()["next_cursor"] is None
    for cursor in ["abc", "-1", "\uff11\uff12", "9" * 40]:
        bad = api.get(TOKENS, {"cursor": cursor}, headers=bearer(raws[0]))
        assert bad.status_code == 422, cursor
        assert bad["Content-Type"] == PROBLEM


def test_bad_input_is_a_422_problem_with_the_web_forms_message(api):
    bad_phone = api.post(CODE, {"phone": "12", "name": "김민수"}, content_type="application/json")
    body = assert_problem(bad_phone, 422, "invalid_request")
    assert "phone" in body["fields"]
    not_json = api.post(CODE, "{", content_type="application/json")
    assert_problem(not_json, 400, "unreadable_request")
    typed, _ = new_number()
    short_code = api.post(
        TOKEN, {"phone": typed, "name": "김민수", "code": "12"}, content_type="application/json"
    )
    assert assert_problem(short_code, 422, "invalid_request")["detail"] == (
        "The code has exactly 6 digits."
    )


def test_wrong_codes_are_limited_as_on_the_web(api):
    typed, _ = new_number()
    sent = api.post(CODE, {"phone": typed, "name": "김민수"}, content_type="application/json")
    wrong = "000000" if sent.json()["dev_code"] != "000000" else "111111"
    body = {"phone": typed, "name": "김민수", "code": wrong}
    for _ in range(4):
        refused = api.post(TOKEN, body, content_type="application/json")
        detail = assert_problem(refused, 400, "wrong_code")["detail"]
        assert detail == "That code is not correct. Check the message and try again."
    locked = api.post(TOKEN, body, content_type="application/json")
    assert assert_problem(locked, 429, "rate_limited")["detail"].startswith(
        "Too many wrong codes: this number is locked."
    )
    assert int(locked["Retry-After"]) > 0
    right = {**body, "code": sent.json()["dev_code"]}
    assert_problem(api.post(TOKEN, right, content_type="application/json"), 429, "rate_limited")
    assert not ApiToken.objects.exists()


def test_code_requests_are_limited_as_on_the_web(api):
    typed, _ = new_number()
    body = {"phone": typed, "name": "김민수"}
    for _ in range(3):
        assert api.post(CODE, body, content_type="application/json").status_code == 202
    refused = api.post(CODE, body, content_type="application/json")
    assert assert_problem(refused, 429, "rate_limited")["detail"].startswith(
        "Too many codes were requested for this number."
    )


def test_a_used_code_is_a_400_problem(api):
    typed, _ = new_number()
    sent = api.post(CODE, {"phone": typed, "name": "김민수"}, content_type="application/json")
    body = {"phone": typed, "name": "김민수", "code": sent.json()["dev_code"]}
    assert api.post(TOKEN, body, content_type="application/json").status_code == 201
    assert_problem(api.post(TOKEN, body, content_type="application/json"), 400, "code_expired")


def test_problems_speak_korean_by_default_and_follow_accept_language(settings):
    settings.LANGUAGE_CODE = "ko"
    english = Client(headers={"accept-language": "en"}).get(TOKENS).json()
    korean = Client().get(TOKENS).json()
    assert english["code"] == korean["code"] == "not_authenticated"
    typed, _ = new_number()
    body = {"phone": typed, "name": "김민수", "code": "12"}
    ko = Client().post(TOKEN, body, content_type="application/json").json()
    assert ko["detail"] != "The code has exactly 6 digits."
    assert any("\uac00" <= ch <= "\ud7a3" for ch in ko["detail"])


def test_the_database_refuses_a_token_that_is_not_a_hash():
    from django.db import IntegrityError, transaction

    customer = CustomerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.create(
            customer=customer, token_hash="raw-token-" + "x" * 40, prefix="raw"
        )
    too_early = timezone.now() - dt.timedelta(days=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.create(
            customer=customer, token_hash="a" * 64, prefix="a", revoked_at=too_early
        )


def test_a_domain_refusal_without_its_own_status_is_a_409_with_its_class_as_code():
    from preorder_shop.api import _refused, error_code
    from preorder_shop.exceptions import DomainError

    class WindowClosed(DomainError):
        pass

    assert error_code(WindowClosed()) == "window_closed"
    response = _refused(None, WindowClosed("The window closed."))
    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize("device", ["a\x00b", "tab\there", "\x7f"])
def test_a_device_label_with_control_characters_is_a_422_not_a_500(api, device):
    typed, _ = new_number()
    sent = api.post(CODE, {"phone": typed, "name": "김민수"}, content_type="application/json")
    body = {"phone": typed, "name": "김민수", "code": sent.json()["dev_code"], "device": device}
    refused = api.post(TOKEN, body, content_type="application/json")
    assert_problem(refused, 422, "invalid_request")
    assert not ApiToken.objects.exists()
