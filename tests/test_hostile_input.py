"""No input raises a 500 (issue 10, item 5).

1. The URL walk: every URL pattern of the project (get_resolver(), recursively, admin and
   i18n included), each path parameter replaced by hostile text (a NUL, 10 KB, "../",
   "..%2F", Arabic-Indic and full-width digits, emoji, 400 digits, a negative number, SQL),
   by GET, HEAD and POST; then every pattern with hostile query parameters. Signed out it
   walks everything; a customer walks the shop and a staff superuser the admin (a
   customer's session is no admin sign-in and staff are no customer, so the other two
   pairs would repeat the signed-out walk). No pattern is skipped: SKIPPED is empty, and
   a test checks that the walk reaches every leaf pattern.
2. Hypothesis over every field a customer, a courier or staff fill in: sign-in (mobile
   number, name, next), the one-time code and its resend, the language switch, the
   reservation form and the campaign page's htmx part, the order form (autosave and
   submit), the courier webhook (correctly signed, so the body is what gets read), and
   the admin's search and changelist filters; plus fixed hostile values for every admin
   filter, date drill-down and add form.

Every answer must be no 500 and log nothing at ERROR on django.request: with
Client(raise_request_exception=False) an exception becomes a 500 and a log record, whose
traceback the failure shows (404, 400, 403, 405 and 429 are fine answers). Each request
runs in a savepoint rolled back afterwards, so requests never see each other's writes (a
submitted form, an aborted transaction) and the world stays as built. Hypothesis does not
shrink: the report names every input, and shrinking request-level examples takes minutes.
"""

import datetime as dt
import json
import logging
import secrets
import traceback
import uuid
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.regex_helper import normalize
from hypothesis import HealthCheck, Phase, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from fulfillment.services import webhook_auth
from orders.models import Order, OrderStatus
from orders.tests.factories import DraftFactory, RatePlanFactory, order_in
from preorder_shop.admin_filters import CheckedFilters
from preorder_shop.customer_session import SESSION_KEY
from preorder_shop.identifiers import ORDER_NUMBER
from preorder_shop.tests.factories import CustomerFactory
from preorder_shop.views import PENDING_KEY
from reservations.tests.factories import CampaignFactory, ReservationFactory, VariantFactory
from tests.admin_client import sign_in_to_admin

pytestmark = pytest.mark.django_db

# Patterns the walk may not visit ("namespace:name" or the view's dotted path when
# unnamed), each with its reason. Empty: every pattern is walked.
SKIPPED: dict[str, str] = {}


def full_width(ascii_text: str) -> str:
    """Full-width digits for ASCII ones: what an East Asian keyboard may type."""
    return "".join(chr(ord(c) + 0xFEE0) for c in ascii_text)


# Path text for a parameter (already URL-encoded where it must be).
HOSTILE_PATH_VALUES = {
    "nul": "%00",
    "10kb": "a" * 10_240,
    "dot-dot": "../",
    "dot-dot-encoded": "..%2F",
    "arabic-indic-digits": quote("١٢٣٤٥٦٧٨٩٠١"),
    "full-width-digits": quote(full_width("123")),
    "emoji": quote("📱🔥"),
    "long-digits": "9" * 400,  # past a bigint, as a number and as a string
    "negative": "-1",
    "sql": quote("1' OR '1'='1"),
}

# Query parameters that views or the admin read, each given hostile values in turn.
QUERY_NAMES = ["q", "next", "part", "p", "o", "e", "_to_field", "_popup", "_changelist_filters"]
HOSTILE_QUERY_VALUES = ["\x00", "١٢٣٤٥٦٧٨٩٠١", "//evil.example/"]

METHODS = ("get", "head", "post")


# The world the walks run in


@dataclass
class World:
    campaign: object
    variant: object
    plan: object
    customer: object
    draft: object  # the customer's draft order form (its reservation has no other order)
    received: object  # a submitted order of the customer
    preparing: object  # an order a courier may hand over
    superuser: object


@pytest.fixture
def world() -> World:
    campaign = CampaignFactory(slug="hostile")
    variant = VariantFactory(campaign=campaign)
    customer = CustomerFactory(phone="+821055556666", name="김민준")
    draft = DraftFactory(reservation=ReservationFactory(customer=customer, variant=variant))
    plan = RatePlanFactory(campaign=campaign)
    received = order_in(OrderStatus.RECEIVED, reservation__customer=customer)
    preparing = order_in(OrderStatus.PREPARING)
    superuser = get_user_model().objects.create_superuser("root", password="pw")
    return World(campaign, variant, plan, customer, draft, received, preparing, superuser)


class Visitor:
    """A test client as one kind of visitor; each request in a savepoint rolled back."""

    def __init__(self, kind: str, world: World) -> None:
        self.kind = kind
        self.world = world
        self.client = Client(raise_request_exception=False)
        self._sign_in()

    def _sign_in(self) -> None:
        self.client.cookies.clear()
        if self.kind == "customer":
            session = self.client.session
            session[SESSION_KEY] = self.world.customer.pk
            session.save()
        elif self.kind == "superuser":
            sign_in_to_admin(self.client, self.world.superuser)
        self.keep_session()

    def keep_session(self) -> None:
        """The session as it is now is the one to come back to after a sign-out."""
        self.cookie = self._session_cookie()

    def _session_cookie(self) -> str | None:
        morsel = self.client.cookies.get(django_settings.SESSION_COOKIE_NAME)
        return morsel.value if morsel else None

    def request(self, method: str, url: str, data=None, **extra):
        sid = transaction.savepoint()
        try:
            response = getattr(self.client, method)(url, data, **extra)
        finally:
            transaction.savepoint_rollback(sid)
        if self._session_cookie() != self.cookie:  # signed out (or the session cycled)
            self._sign_in()
        return response


class ErrorLog(logging.Handler):
    """Records django.request logs at ERROR and above while installed."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def error_log():
    """ERROR records of django.request. Its thousands of 404 and 403 warnings (with their
    tracebacks) are not even created: formatting them would be most of the walk's time."""
    handler = ErrorLog()
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.ERROR)
    try:
        yield handler
    finally:
        logger.setLevel(level)
        logger.removeHandler(handler)


class Failures:
    """Every bad answer of a walk, reported together at the end (one line each, plus the
    traceback's last lines)."""

    def __init__(self, error_log: ErrorLog) -> None:
        self.error_log = error_log
        self.lines: list[str] = []
        self.seen: set[str] = set()

    def check(self, response, what: str) -> None:
        records, self.error_log.records[:] = list(self.error_log.records), []
        if response.status_code != 500 and not records:
            return
        cause = ""
        for record in records:
            if record.exc_info:
                cause = "".join(traceback.format_exception(*record.exc_info)[-3:]).strip()
            else:
                cause = cause or record.getMessage()
        key = cause.splitlines()[-1] if cause else str(response.status_code)
        first = key not in self.seen
        self.seen.add(key)
        self.lines.append(
            f"{what} -> {response.status_code}" + (f"\n    {cause}" if first and cause else "")
        )

    def assert_none(self) -> None:
        assert not self.lines, f"{len(self.lines)} bad answer(s):\n" + "\n".join(self.lines)


@pytest.fixture
def failures(error_log) -> Failures:
    return Failures(error_log)


def short(text: str) -> str:
    return text if len(text) <= 120 else f"{text[:60]}…({len(text)} chars)…{text[-40:]}"


# 1. The URL walk


@dataclass(frozen=True)
class Route:
    """One leaf pattern as a %-format string of its parameters (Django's own reversal
    reading of the regexes: django.utils.regex_helper.normalize)."""

    name: str
    template: str
    params: tuple[str, ...]
    leaf: int  # which URLPattern (a pattern with optional parts gives several routes)

    def url(self, values: dict[str, str]) -> str:
        return "/" + self.template % values


def routes() -> list[Route]:
    found: list[Route] = []

    def walk(patterns, prefixes: list[list[tuple[str, list[str]]]], names: str) -> None:
        for pattern in patterns:
            forms = normalize(pattern.pattern.regex.pattern)
            if isinstance(pattern, URLResolver):
                namespace = f"{names}{pattern.namespace}:" if pattern.namespace else names
                walk(pattern.url_patterns, [*prefixes, forms], namespace)
                continue
            assert isinstance(pattern, URLPattern)
            name = f"{names}{pattern.name or pattern.lookup_str}"
            if name in SKIPPED:
                continue
            combos = [[("", [])]]
            for level in [*prefixes, forms]:
                combos = [[*c, f] for c in combos for f in level]
            for combo in combos:
                template = "".join(text for text, _ in combo)
                params = tuple(p for _, ps in combo for p in ps)
                found.append(Route(name, template, params, id(pattern)))

    walk(get_resolver().url_patterns, [], "")
    return found


def leaf_count(patterns) -> int:
    return sum(leaf_count(p.url_patterns) if isinstance(p, URLResolver) else 1 for p in patterns)


def hostile_urls(route: Route):
    """(label, url) for each hostile value: all parameters at once, and, with several
    parameters, each alone (the others "1")."""
    if not route.params:
        yield "plain", route.url({})
        return
    for label, value in HOSTILE_PATH_VALUES.items():
        yield label, route.url(dict.fromkeys(route.params, value))
        if len(route.params) > 1:
            for param in route.params:
                values = {**dict.fromkeys(route.params, "1"), param: value}
                yield f"{label} in {param}", route.url(values)


def test_the_walk_visits_every_pattern():
    walked = routes()
    every = leaf_count(get_resolver().url_patterns)
    assert len({route.leaf for route in walked}) == every - len(SKIPPED)
    names = {route.name for route in walked}
    assert {"admin:index", "admin:orders_order_change", "set_language", "signout"} <= names
    assert {"api:order_status", "fulfillment:courier_webhook", "healthz"} <= names


def routes_for(kind: str) -> list[Route]:
    """Signed out: every route. A customer's session is no admin sign-in and a staff user is
    no customer (request.customer is None), so the admin sees a customer, and the shop sees
    staff, exactly as signed out: the customer walks the shop, the superuser the admin."""
    every = routes()
    if kind == "anonymous":
        return every
    in_admin = kind == "superuser"
    return [route for route in every if route.name.startswith("admin:") == in_admin]


IDENTITIES = ["anonymous", "customer", "superuser"]


@pytest.mark.parametrize("kind", IDENTITIES)
def test_no_path_value_makes_a_server_error(world, failures, kind):
    visitor = Visitor(kind, world)
    for route in routes_for(kind):
        for label, url in hostile_urls(route):
            for method in METHODS:
                response = visitor.request(method, url)
                failures.check(response, f"{method.upper()} {route.name} [{label}] {short(url)}")
    failures.assert_none()


@pytest.mark.parametrize("kind", IDENTITIES)
def test_no_query_value_makes_a_server_error(world, failures, kind):
    visitor = Visitor(kind, world)
    for route in routes_for(kind):
        url = route.url(dict.fromkeys(route.params, "1"))
        for value in HOSTILE_QUERY_VALUES:
            query = urlencode(dict.fromkeys(QUERY_NAMES, value))
            for method in ("get", "post"):
                response = visitor.request(method, f"{url}?{query}")
                failures.check(response, f"{method.upper()} {route.name} ?…={short(repr(value))}")
    failures.assert_none()


# 2. Hypothesis over every field


FUZZ = hypothesis_settings(
    max_examples=40,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

FIXED_TEXT = [
    "\x00",
    "a\x00b",
    "x" * 100_000,
    "١٢٣٤٥٦",
    full_width("123456"),
    full_width("010-1234-5678"),
    "010-1234-5678\x00",
    "📱" * 50,
    "1' OR '1'='1",
    "-1",
    "99999999999999999999",
    "1e309",
    "NaN",
    "   ",
    "\u202e\u200b",
]
text = st.one_of(
    st.text(max_size=40),  # any unicode but surrogates (they cannot be form-encoded)
    st.text(st.characters(codec="ascii"), max_size=20),
    st.sampled_from(FIXED_TEXT),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.builds(lambda s, n: s * n, st.sampled_from(["9", "가", "\x00", "%"]), st.integers(1, 5000)),
)


def maybe(valid, strategy=text):
    return st.one_of(st.just(valid), strategy)


@given(phone=maybe("010-5555-6666"), name=maybe("김민준"), next_=maybe("/"))
@FUZZ
def test_the_sign_in_form_takes_any_text(world, failures, phone, name, next_):
    visitor = Visitor("anonymous", world)
    data = {"phone": phone, "name": name, "next": next_}
    for url in (reverse("signin"), f"{reverse('signin')}?{urlencode({'next': next_})}"):
        response = visitor.request("post", url, data)
        event(f"status {response.status_code}")
        failures.check(response, f"POST signin {short(repr(data))}")
    failures.assert_none()


@given(language=maybe("ko"), next_=maybe("/"))
@FUZZ
def test_the_language_switch_takes_any_text(world, failures, language, next_):
    visitor = Visitor("customer", world)
    data = {"language": language, "next": next_}
    response = visitor.request("post", reverse("set_language"), data)
    event(f"status {response.status_code}")
    failures.check(response, f"POST set_language {short(repr(data))}")
    failures.assert_none()


@given(code=maybe("123456"), next_=maybe("/"))
@FUZZ
def test_the_code_form_takes_any_text(world, failures, code, next_):
    visitor = Visitor("anonymous", world)
    session = visitor.client.session
    session[PENDING_KEY] = {"phone": world.customer.phone, "name": "김민준", "next": "/"}
    session.save()
    visitor.keep_session()
    for url in (reverse("signin_verify"), reverse("signin_resend")):
        response = visitor.request("post", url, {"code": code, "next": next_})
        event(f"{url} status {response.status_code}")
        failures.check(response, f"POST {url} {short(repr(code))}")
    failures.assert_none()


@given(
    variant=st.one_of(st.just("valid"), text),
    fulfilment=maybe("courier"),
    key=st.one_of(st.just("fresh"), text),
    part=maybe("counts"),
)
@FUZZ
def test_the_reservation_form_takes_any_text(world, failures, variant, fulfilment, key, part):
    visitor = Visitor("customer", world)
    data = {
        "variant": str(world.variant.pk) if variant == "valid" else variant,
        "fulfilment": fulfilment,
        "idempotency_key": str(uuid.uuid4()) if key == "fresh" else key,
    }
    slug = world.campaign.slug
    response = visitor.request("post", reverse("reservations:reserve", args=[slug]), data)
    event(f"reserve status {response.status_code}")
    failures.check(response, f"POST reserve {short(repr(data))}")
    page = reverse("reservations:campaign_detail", args=[slug])
    response = visitor.request("get", page, {"part": part}, HTTP_HX_REQUEST="true")
    failures.check(response, f"GET campaign ?part={short(repr(part))}")
    failures.assert_none()


ORDER_FIELDS = {
    "plan": "plan",
    "join_type": "new_line",
    "port_in_carrier": "",
    "port_in_number": "",
    "recipient_name": "홍길동",
    "recipient_phone": "010-1234-5678",
    "postcode": "04524",
    "address_line1": "서울특별시 중구 세종대로 110",
    "address_line2": "",
    "delivery_note": "",
}


@given(values=st.fixed_dictionaries({name: maybe(good) for name, good in ORDER_FIELDS.items()}))
@FUZZ
def test_the_order_form_takes_any_text(world, failures, values):
    visitor = Visitor("customer", world)
    if values["plan"] == "plan":
        values["plan"] = str(world.plan.pk)
    number = world.draft.reservation.number
    for name in ("orders:order_autosave", "orders:order_submit"):
        response = visitor.request("post", reverse(name, args=[number]), values)
        event(f"{name} status {response.status_code}")
        failures.check(response, f"POST {name} {short(repr(values))}")
    failures.assert_none()


OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
when = st.one_of(
    st.datetimes(timezones=st.one_of(st.none(), OFFSETS)).map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "9999-12-31T23:59:59+14:00",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00-14:00",
            "0001-01-01T00:00:00+14:00",
            "now",
        ]
    ),
    text,
)
json_text = st.text(st.characters(exclude_categories=()), max_size=30)  # lone surrogates too
json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        json_text,
        text,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(json_text, inner)),
    max_leaves=5,
)


# Per field of a courier event: what a courier might get wrong, besides any JSON at all.
WEBHOOK_FIELDS = {
    "event_id": text,
    "order_number": st.one_of(st.sampled_from(["received", "unknown"]), text),
    "courier": text,
    "tracking_number": text,
    "event": text,
    "occurred_at": when,
}


def unknown_order_number() -> str:
    while (number := ORDER_NUMBER.generate()) and Order.objects.filter(number=number).exists():
        pass
    return number


@given(data=st.data())
@hypothesis_settings(FUZZ, max_examples=150)  # ~5 ms an example
def test_the_courier_webhook_takes_any_signed_body(world, failures, settings, data):
    """A good event for the preparing order with up to two fields spoilt (or an unknown
    field, or raw bytes), so the fuzz reaches the service as well as the parser."""
    settings.COURIER_WEBHOOK_SECRET = "test-courier-secret"
    visitor = Visitor("anonymous", world)
    body = {
        "event_id": f"hostile-{secrets.token_hex(4)}",
        "order_number": world.preparing.number,
        "courier": "CJ",
        "tracking_number": "600000000001",
        "event": data.draw(st.sampled_from(["handed_over", "delivered"])),
        "occurred_at": timezone.now().isoformat(),
    }
    for name in data.draw(st.sets(st.sampled_from(list(WEBHOOK_FIELDS)), max_size=2)):
        body[name] = data.draw(st.one_of(WEBHOOK_FIELDS[name], json_value), label=name)
    if body["order_number"] == "received":
        body["order_number"] = world.received.number
    elif body["order_number"] == "unknown":
        body["order_number"] = unknown_order_number()
    if body["occurred_at"] == "now":
        body["occurred_at"] = timezone.now().isoformat()
    shape = data.draw(st.sampled_from(["event", "event", "event", "extra field", "bytes"]))
    if shape == "extra field":
        body[data.draw(json_text, label="extra")] = data.draw(json_value, label="extra value")
    raw = data.draw(st.binary(max_size=200)) if shape == "bytes" else json.dumps(body).encode()
    nonce = data.draw(st.sampled_from(["fresh", "fresh", "fresh", "used", "n\x00", "n" * 65]))
    nonce = {"fresh": secrets.token_hex(16), "used": "hostile-used"}.get(nonce, nonce)
    stamp = str(int(timezone.now().timestamp()))
    signature = webhook_auth.sign_webhook(timestamp=stamp, nonce=nonce, body=raw)
    headers = {
        "HTTP_X_COURIER_TIMESTAMP": stamp,
        "HTTP_X_COURIER_NONCE": nonce,
        "HTTP_X_COURIER_SIGNATURE": signature,
    }
    url = reverse("fulfillment:courier_webhook")
    response = visitor.request("post", url, raw, content_type="application/json", **headers)
    event(f"status {response.status_code}")
    failures.check(response, f"POST webhook {short(repr(raw))} nonce={short(repr(nonce))}")
    failures.assert_none()


@pytest.fixture
def changelists(world) -> list[tuple[str, list[str], str | None]]:
    """(changelist url, the query parameters its search, filters, date hierarchy, ordering
    and pagination read, the date hierarchy's field) for every registered model admin."""
    request = RequestFactory().get("/")
    request.user = world.superuser
    found = []
    for model, model_admin in admin.site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        names = {"q", "o", "p", "all", "_facets"}
        changelist = model_admin.get_changelist_instance(request)
        for spec in changelist.filter_specs:
            names.update(spec.expected_parameters())
        if model_admin.date_hierarchy:
            field = model_admin.date_hierarchy
            names.update(f"{field}__{part}" for part in ("year", "month", "day", "gte", "lt"))
        found.append((url, sorted(names), model_admin.date_hierarchy))
    return found


# Each example visits every changelist (a changelist page takes ~25 ms to render).
FUZZ_ADMIN = hypothesis_settings(FUZZ, max_examples=8)

ADMIN_VALUES = ["\x00", "١٢٣٤٥٦٧٨٩٠١", "99999999999999999999"]
DATE_VALUES = ["9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00+14:00", "0001-01-01 00:00"]
DRILL_DOWNS = [
    {"year": "9999"},
    {"year": "9999", "month": "12"},
    {"year": "9999", "month": "12", "day": "31"},
    {"year": "1", "month": "1", "day": "1"},
    {"year": "2", "month": "1", "day": "1"},
    {"year": "0"},
    {"year": full_width("2025")},
    {"year": "2025", "month": "99999999999999999999"},
    {"year": "2025", "month": "2", "day": "30"},
]


# A naive date filter (0001-01-01 00:00) is read as local time, with Django's warning.
naive_date_filter = pytest.mark.filterwarnings(
    "ignore:DateTimeField .* received a naive datetime:RuntimeWarning"
)


@naive_date_filter
def test_no_admin_search_or_filter_value_makes_a_server_error(world, failures, changelists):
    visitor = Visitor("superuser", world)
    for url, names, date_field in changelists:
        for name in names:
            dated = date_field is not None and name.startswith(f"{date_field}__")
            for value in ADMIN_VALUES + (DATE_VALUES if dated else []):
                response = visitor.request("get", url, {name: value})
                failures.check(response, f"GET {url}?{name}={short(repr(value))}")
        for drill_down in DRILL_DOWNS if date_field else []:
            query = {f"{date_field}__{part}": value for part, value in drill_down.items()}
            response = visitor.request("get", url, query)
            failures.check(response, f"GET {url} {query}")
    failures.assert_none()


FORM_VALUES = ["\x00", "x" * 10_240, "99999999999999999999", "-1", "9999-12-31", "0001-01-01"]


def test_no_admin_add_form_value_makes_a_server_error(world, failures):
    """Every field of every add form at once set to one hostile value (date and time parts
    too), so the form's and the model's checks all see it."""
    visitor = Visitor("superuser", world)
    request = RequestFactory().get("/")
    request.user = world.superuser
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_add_permission(request):
            continue
        names = list(model_admin.get_form(request)().fields)
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
        for value in FORM_VALUES:
            data = {key: value for name in names for key in (name, f"{name}_0", f"{name}_1")}
            response = visitor.request("post", url, data)
            failures.check(response, f"POST {url} every field={short(repr(value))}")
    failures.assert_none()


def test_every_project_admin_checks_its_filters():
    unchecked = [
        type(model_admin).__name__
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in {"preorder_shop", "reservations", "orders", "fulfillment"}
        and not isinstance(model_admin, CheckedFilters)
    ]
    assert not unchecked, "use preorder_shop.admin_filters.CheckedFilters"


@naive_date_filter
@given(data=st.data())
@FUZZ_ADMIN
def test_admin_search_and_filters_take_any_text(world, failures, changelists, data):
    visitor = Visitor("superuser", world)
    for url, names, _date_field in changelists:
        chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
        query = {name: data.draw(st.one_of(when, text), label=name) for name in chosen}
        response = visitor.request("get", url, query)
        failures.check(response, f"GET {url} {short(repr(query))}")
    failures.assert_none()
