"""The shop's API (issue 13): django-ninja at /api/v1/, typed code -> OpenAPI 3.

This module holds what every router shares: the NinjaAPI, the Bearer token auth and the
RFC 9457 problem details every error is answered with. Each app adds its own router and
the composition root (preorder_shop.urls) assembles them, so the layers hold.
"""

import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import DocsBase
from ninja.security import HttpBearer

from . import tokens
from .exceptions import CodeExpired, DomainError, RateLimited, WrongCode
from .models import ApiToken, Customer
from .problems import PROBLEM, problem

# A refusal's HTTP status; any other DomainError is a conflict with the current state.
DOMAIN_STATUS: dict[type[DomainError], int] = {RateLimited: 429, WrongCode: 400, CodeExpired: 400}


class Problem(Schema):
    """RFC 9457 problem details, as every error is answered (the schema's error responses)."""

    type: str
    title: str
    status: int
    detail: str | None = None
    code: str


def error_code(exc: DomainError) -> str:
    """A domain error's `code`: its class's own, or its class name in snake case."""
    return (
        getattr(exc, "code", None) or re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()
    )


@dataclass(frozen=True)
class PresentedToken:
    """A well-formed bearer token not yet looked up (TokenAuth(checked_by_endpoint=True))."""

    raw: str


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; no session cookie is read, so no CSRF applies.

    With checked_by_endpoint the token is looked up by the endpoint's own statement, which
    authenticates and reads in one round trip (the status polls, orders.status_load):
    request.auth is then a PresentedToken until the endpoint calls `signed_in`."""

    def __init__(self, *, checked_by_endpoint: bool = False):
        super().__init__()
        self.checked_by_endpoint = checked_by_endpoint

    def __call__(self, request: HttpRequest) -> ApiToken | PresentedToken | None:
        # HttpBearer's rule, read from META: request.headers would copy every header of
        # every poll into a mapping for this one.
        scheme, _space, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | PresentedToken | None:
        if not token or len(token) > 100:
            return None
        if self.checked_by_endpoint:
            return PresentedToken(token)
        return tokens.authenticate(token)


def signed_in(request: HttpRequest, token: ApiToken | None) -> ApiToken:
    """What the endpoint's statement found for request.auth's PresentedToken: the live token
    becomes request.auth; no live token is the same 401 as TokenAuth's."""
    if token is None:
        raise AuthenticationError
    request.auth = token
    return token


def rendered(request: HttpRequest, schema: type[Schema], data: dict) -> bytes:
    """The body ninja would send for `data` returned as `schema`: validated, dumped and
    rendered the same way, for an endpoint that keeps what it sends
    (preorder_shop.kept_answers)."""
    dumped = schema.model_validate(data).model_dump()
    content = api.renderer.render(request, dumped, response_status=200)
    return content.encode() if isinstance(content, str) else content


def optional_customer(request: HttpRequest) -> Customer | None:
    """The customer a public endpoint answers for: the token's, when one is sent and live."""
    token = TokenAuth()(request)
    return token.customer if token else None


# The responses every lookup of a number may answer (no token, a miss, guessing slowed),
# and those of an endpoint with a body (not JSON, wrong shape).
LOOKUP = {401: Problem, 404: Problem, 429: Problem}
WITH_BODY = {400: Problem, 422: Problem}

# Idempotent creates: the key is read by the endpoint, not by ninja, so a missing or
# malformed key gets a code of its own.
IDEMPOTENCY_KEY = "Idempotency-Key"
UUID_TEXT = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def idempotency_parameter(description: str) -> dict:
    """The OpenAPI header parameter of an idempotent create."""
    return {
        "in": "header",
        "name": IDEMPOTENCY_KEY,
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
        "description": description,
    }


def idempotency_key(request: HttpRequest, *, missing: str) -> uuid.UUID | HttpResponse:
    """The request's Idempotency-Key, or the 400 problem saying what is wrong with it
    (`missing`: the detail when there is none)."""
    sent = request.headers.get(IDEMPOTENCY_KEY)
    if sent is None:
        return problem(
            400, "idempotency_key_missing", _("Send an Idempotency-Key header."), missing
        )
    if not UUID_TEXT.fullmatch(sent):
        return problem(
            400, "idempotency_key_invalid", _("The Idempotency-Key header must be a UUID.")
        )
    return uuid.UUID(sent)


# A public endpoint that says more with a token (OpenAPI: the token is optional).
OPTIONAL_TOKEN = {"security": [{"TokenAuth": []}, {}]}


class Docs(DocsBase):
    """Swagger UI from the static bundle ninja ships, booted by a static file: the strict
    Content-Security-Policy allows no inline script or style and no CDN."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        return render(
            request,
            "api/docs.html",
            {"api": api, "openapi_url": self.get_openapi_url(api, kwargs)},
        )


PROBLEM_CONTENT = {"schema": {"$ref": "#/components/schemas/Problem"}}


class ShopApi(NinjaAPI):
    """The schema says what problem() sends: every error response is
    `application/problem+json`, and any operation with a body can answer 400
    (unreadable_request, from _http_error) before its own code runs. Found by schemathesis
    (tests/test_api_schema.py)."""

    def get_openapi_schema(self, **kwargs: Any) -> dict:
        schema = super().get_openapi_schema(**kwargs)
        unreadable = {"description": "Bad Request", "content": {PROBLEM: PROBLEM_CONTENT}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation["responses"]
                if "requestBody" in operation:
                    responses.setdefault(400, unreadable)
                for status, response in responses.items():
                    if int(status) >= 400 and "content" in response:
                        response["content"] = {PROBLEM: response["content"].popitem()[1]}
        return schema


api = ShopApi(
    title="Pre-order shop API",
    version="1",
    description=(
        "The shop's second front door for the mobile app. Sign in with a one-time code, then "
        "send `Authorization: Bearer <token>`. Every error is an RFC 9457 problem "
        "(`application/problem+json`) with a stable `code`; texts follow `Accept-Language` "
        "(Korean by default)."
    ),
    urls_namespace="api",
    docs=Docs(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "loc": [str(part) for part in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors
    ]
    return problem(422, "invalid_request", _("The request is not valid."), errors=errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = problem(
        401,
        "not_authenticated",
        _("Sign in first."),
        _("Send a valid token: Authorization: Bearer <token>."),
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(404, "not_found", _("Not found."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:  # ninja's "Cannot parse request body"
        return problem(400, "unreadable_request", _("The request body could not be read."))
    return problem(exc.status_code, "http_error", str(exc))


@api.exception_handler(DomainError)
def _refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    status = next((s for cls, s in DOMAIN_STATUS.items() if isinstance(exc, cls)), 409)
    response = problem(status, error_code(exc), _("The request was refused."), str(exc.message))
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response
