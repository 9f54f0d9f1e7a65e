"""Wrong admin sign-ins are slowed per account and per address, in Redis, with a message and
an audit row each; a right password with a right second factor always passes, so guessing
at an account never locks its owner out."""

import socket

import pytest
import redis
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from preorder_shop import ratelimit
from preorder_shop.staff_auth import signin, throttle
from preorder_shop.staff_auth.models import Outcome, StaffSignInAttempt
from preorder_shop.tests.test_staff_two_factor import PASSWORD, current_code, enrolled

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
INDEX = "/admin/"
ATTACKER = "203.0.113.9"
THROTTLED = b"Too many sign-in attempts"
WRONG = b"two-factor code is not right"


def client(address: str = ATTACKER) -> Client:
    return Client(headers={"accept-language": "en"}, REMOTE_ADDR=address)


@pytest.fixture(autouse=True)
def _quick_hashes(settings):
    """Dozens of wrong passwords: a fast hasher keeps the shared cores free."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("mina", password=PASSWORD, is_staff=True)


def attempt(browser, *, username="mina", password="wrong", code=""):  # noqa: S107
    return browser.post(LOGIN, {"username": username, "password": password, "code": code})


def outcomes() -> list[str]:
    return list(StaffSignInAttempt.objects.order_by("pk").values_list("outcome", flat=True))


def test_every_limit_fails_closed_and_says_why():
    limits = [throttle.WRONG_PER_ACCOUNT, throttle.WRONG_PER_ADDRESS]
    assert {limit.when_down for limit in limits} == {ratelimit.WhenDown.FAIL_CLOSED}
    assert all(limit.why for limit in limits)


def test_forty_wrong_passwords_then_the_right_password_and_code_sign_in(staff):
    device, _ = enrolled(staff)
    attacker = client()
    responses = [attempt(attacker, code="123456") for _ in range(40)]
    assert [r.status_code for r in responses[:5]] == [200] * 5
    assert all(WRONG in r.content for r in responses[:5])
    assert {r.status_code for r in responses[5:]} == {429}
    assert all(THROTTLED in r.content for r in responses[5:])
    assert int(responses[-1]["Retry-After"]) > 0

    owner = client()  # even from the attacker's address
    response = attempt(owner, password=PASSWORD, code=current_code(device))
    assert response["Location"] == INDEX
    assert owner.get(INDEX).status_code == 200
    assert outcomes() == [Outcome.WRONG] * 5 + [Outcome.THROTTLED] * 35 + [Outcome.SIGNED_IN]


def test_while_throttled_the_right_password_alone_reads_like_a_wrong_one(staff):
    enrolled(staff)
    attacker = client()
    for _ in range(5):
        attempt(attacker)
    wrong = attempt(attacker)
    right_password = attempt(attacker, password=PASSWORD, code="000000")
    no_code = attempt(attacker, password=PASSWORD)
    assert wrong.status_code == right_password.status_code == no_code.status_code == 429
    assert b"Wait 15 min" in wrong.content
    for response in (wrong, right_password, no_code):
        assert response.content.count(THROTTLED) == 1
    assert attacker.get(INDEX).status_code == 302


def test_an_account_not_yet_enrolled_is_refused_its_password_alone_once_throttled(staff):
    attacker = client()
    for _ in range(5):
        attempt(attacker)
    assert attempt(attacker, password=PASSWORD).status_code == 429
    assert attacker.get("/admin/two-factor/").status_code == 302


def test_below_the_limit_a_right_attempt_takes_its_hit_back(staff):
    device, _ = enrolled(staff)
    for _ in range(4):
        attempt(client())
    attempt(client(), password=PASSWORD, code=current_code(device))
    assert attempt(client()).status_code == 200  # the fifth wrong one, not the sixth


def test_the_account_count_does_not_care_about_case_or_address(staff):
    for n in range(5):
        attempt(client(f"198.51.100.{n}"), username="MINA")
    assert attempt(client("198.51.100.99")).status_code == 429


def test_one_address_spraying_many_accounts_meets_the_address_ceiling(staff):
    device, _ = enrolled(staff)
    sprayer = client()
    ceiling = throttle.WRONG_PER_ADDRESS.max_hits
    for n in range(ceiling):
        assert attempt(sprayer, username=f"guess{n}").status_code == 200
    assert attempt(sprayer, username="someone-else").status_code == 429
    assert attempt(client("198.51.100.1"), username="someone-else").status_code == 200
    response = attempt(sprayer, password=PASSWORD, code=current_code(device))
    assert response["Location"] == INDEX


def test_each_attempt_leaves_a_row_unknown_names_masked(staff):
    attempt(client(), username="hunter2-typed-as-a-name")
    attempt(client())
    rows = list(StaffSignInAttempt.objects.order_by("pk"))
    assert [(r.account, r.known_account, r.address, r.outcome) for r in rows] == [
        ("hu••••••••", False, ATTACKER, Outcome.WRONG),
        ("mina", True, ATTACKER, Outcome.WRONG),
    ]


def test_the_sign_in_log_is_append_only(staff):
    attempt(client())
    row = StaffSignInAttempt.objects.get()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        StaffSignInAttempt.objects.filter(pk=row.pk).update(outcome=Outcome.SIGNED_IN)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        row.delete()


@pytest.fixture
def redis_down(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    unreachable = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    monkeypatch.setattr(ratelimit, "redis_client", lambda: unreachable)


def test_while_redis_is_down_no_password_is_checked_uncounted(staff, redis_down, monkeypatch):
    device, _ = enrolled(staff)
    checked = []
    monkeypatch.setattr(signin, "authenticate", lambda *a, **kw: checked.append(kw))
    browser = Client(raise_request_exception=False, REMOTE_ADDR=ATTACKER)
    response = attempt(browser, password=PASSWORD, code=current_code(device))
    assert response.status_code == 503  # fail closed: the "try again" page
    assert checked == []
    assert not StaffSignInAttempt.objects.exists()
    assert TOTPDevice.objects.get(pk=device.pk).last_t == -1  # the code was not used up
