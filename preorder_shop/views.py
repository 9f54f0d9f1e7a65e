"""Customer sign-in: mobile number and name, then the one-time code."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .client import client_key
from .customer_session import sign_in, sign_out
from .exceptions import DomainError
from .forms import RequestCodeForm, VerifyCodeForm
from .phone import national_format

PENDING_KEY = "signin_pending"


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


@require_http_methods(["GET", "HEAD", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    form = RequestCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        try:
            code = services.request_code(phone=phone, client_ip=client_key(request))
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            request.session[PENDING_KEY] = {
                "phone": phone,
                "name": form.cleaned_data["name"],
                "next": _safe_next(request),
                "dev_code": code if settings.OTP_SHOW_CODE_ON_PAGE else None,
            }
            return redirect("signin_verify")
    return render(request, "identity/signin.html", {"form": form, "next": _safe_next(request)})


@require_http_methods(["GET", "HEAD", "POST"])
def signin_verify(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_KEY)
    if not pending:
        return redirect("signin")
    form = VerifyCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.verify_code(
                phone=pending["phone"],
                name=pending["name"],
                code=form.cleaned_data["code"],
                client_ip=client_key(request),
                language=request.LANGUAGE_CODE,
            )
        except DomainError as exc:
            form.add_error("code", exc.message)
        else:
            del request.session[PENDING_KEY]
            sign_in(request, customer)
            messages.success(request, _("You are signed in."))
            return redirect(pending["next"])
    return render(
        request,
        "identity/verify.html",
        {
            "form": form,
            "phone": national_format(pending["phone"]),
            "dev_code": pending.get("dev_code"),
        },
    )


@require_POST
def signin_resend(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_KEY)
    if not pending:
        return redirect("signin")
    try:
        code = services.request_code(phone=pending["phone"], client_ip=client_key(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        pending["dev_code"] = code if settings.OTP_SHOW_CODE_ON_PAGE else None
        request.session[PENDING_KEY] = pending
        messages.info(request, _("A new code is on its way. The previous code no longer works."))
    return redirect("signin_verify")


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    sign_out(request)
    return redirect(settings.LOGIN_REDIRECT_URL)
