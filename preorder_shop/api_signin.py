"""Sign-in for the API: the web sign-in's one-time code (preorder_shop.services, its rate
limits and messages), then a token per device (preorder_shop.tokens)."""

import datetime as dt

from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from . import services, tokens
from .api import Problem, TokenAuth, problem
from .client import client_key
from .forms import RequestCodeForm, VerifyCodeForm

router = Router(tags=["sign-in"])


class CodeRequest(Schema):
    phone: str = Field(max_length=40, examples=["010-1234-5678"])
    name: str = Field(max_length=100)


class CodeSent(Schema):
    detail: str
    dev_code: str | None = Field(None, description="Only in development builds.")


class CodeVerify(CodeRequest):
    code: str = Field(max_length=20, examples=["123456"])
    # No control characters (a NUL would reach PostgreSQL text): a 422, never a 500.
    device: str = Field(
        "",
        max_length=60,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="A label to tell devices apart.",
    )


class TokenOut(Schema):
    id: int
    prefix: str
    device: str
    created_at: dt.datetime
    last_used_at: dt.datetime
    current: bool = False


class TokenIssued(Schema):
    token: str = Field(description="Send as `Authorization: Bearer <token>`; shown only once.")
    expires_after_idle_days: int
    device: TokenOut


class TokenPage(Schema):
    items: list[TokenOut]
    next_cursor: str | None


def _form_problem(form) -> object:
    errors = {field: [str(m) for m in messages] for field, messages in form.errors.items()}
    first = next(iter(errors.values()))[0]
    return problem(422, "invalid_request", first, first, fields=errors)


@router.post(
    "/code",
    response={202: CodeSent, 422: Problem, 429: Problem},
    url_name="signin_code",
    summary="Send a sign-in code by SMS",
)
def request_code(request: HttpRequest, body: CodeRequest):
    form = RequestCodeForm({"phone": body.phone, "name": body.name})
    if not form.is_valid():
        return _form_problem(form)
    code = services.request_code(phone=form.cleaned_data["phone"], client_ip=client_key(request))
    return Status(
        202,
        {
            "detail": _("A code is on its way by text message."),
            "dev_code": code if settings.OTP_SHOW_CODE_ON_PAGE else None,
        },
    )


@router.post(
    "/token",
    response={201: TokenIssued, 400: Problem, 422: Problem, 429: Problem},
    url_name="signin_token",
    summary="Verify the code and get a token",
)
def verify_code(request: HttpRequest, body: CodeVerify):
    form = RequestCodeForm({"phone": body.phone, "name": body.name})
    code_form = VerifyCodeForm({"code": body.code})
    if not form.is_valid():
        return _form_problem(form)
    if not code_form.is_valid():
        return _form_problem(code_form)
    customer = services.verify_code(
        phone=form.cleaned_data["phone"],
        name=form.cleaned_data["name"],
        code=code_form.cleaned_data["code"],
        client_ip=client_key(request),
        language=get_language() or "ko",
    )
    token, raw = tokens.issue(customer, device=body.device)
    return Status(
        201,
        {
            "token": raw,
            "expires_after_idle_days": tokens.IDLE_LIFETIME.days,
            "device": _out(token, current=True),
        },
    )


def _out(token, *, current: bool) -> dict:
    return {
        "id": token.pk,
        "prefix": token.prefix,
        "device": token.device,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "current": current,
    }


@router.get(
    "/tokens",
    auth=TokenAuth(),
    response={200: TokenPage, 401: Problem, 422: Problem},
    url_name="tokens",
    summary="The customer's signed-in devices",
)
def list_tokens(
    request: HttpRequest,
    cursor: str | None = Query(None, max_length=20),
    limit: int = Query(20, ge=1, le=100),
):
    after = None
    if cursor is not None:
        if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 18:
            return problem(422, "invalid_cursor", _("This cursor is not valid."))
        after = int(cursor)
    rows, next_id = tokens.page(request.auth.customer, after=after, limit=limit)
    return {
        "items": [_out(t, current=t.pk == request.auth.pk) for t in rows],
        "next_cursor": None if next_id is None else str(next_id),
    }


@router.delete(
    "/tokens/{int:token_id}",
    auth=TokenAuth(),
    response={204: None, 401: Problem, 404: Problem},
    url_name="token_revoke",
    summary="Sign a device out",
)
def revoke_token(request: HttpRequest, token_id: int):
    if token_id > 2**62 or not tokens.revoke(request.auth.customer, token_id):
        raise Http404
    return Status(204, None)


@router.post(
    "/signout",
    auth=TokenAuth(),
    response={204: None, 401: Problem},
    url_name="signout",
    summary="Sign this device out (revoke the token sent)",
)
def signout(request: HttpRequest):
    tokens.revoke(request.auth.customer, request.auth.pk)
    return Status(204, None)
