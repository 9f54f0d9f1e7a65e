"""The admin's sign-in and two-factor enrolment pages (routed by site.StaffAdminSite)."""

import django_otp
from django.contrib.auth import REDIRECT_FIELD_NAME, login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from . import enrolment, signin
from .forms import ConfirmDeviceForm, StaffSignInForm
from .policy import needs_enrolment, two_factor_required

RECOVERY_CODES_KEY = "staff_recovery_codes"


def _next(request: HttpRequest, site) -> str:
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return reverse("admin:index", current_app=site.name)


def _page(request, site, template: str, context: dict, status: int = 200):
    # No sidebar or app list: these pages come before the second factor.
    base = {**site.each_context(request), "is_nav_sidebar_enabled": False}
    request.current_app = site.name
    return TemplateResponse(request, template, {**base, **context}, status=status)


def _refusal_message(verdict: signin.Verdict) -> str:
    if verdict.refusal is signin.Refusal.THROTTLED:
        return _(
            "Too many sign-in attempts for this account or from this address. Wait "
            "%(minutes)d min and try again; your password with your two-factor code "
            "still signs you in."
        ) % {"minutes": verdict.wait_minutes}
    return _(
        "The username, password or two-factor code is not right. "
        "Note that the password is case-sensitive."
    )


@never_cache
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def staff_login(request: HttpRequest, site) -> HttpResponse:
    target = _next(request, site)
    if request.method != "POST":
        if site.has_permission(request):
            return HttpResponseRedirect(target)  # a URL, never a view name
        if two_factor_required() and needs_enrolment(request.user):
            return redirect("admin:two_factor_setup")
    form = StaffSignInForm(request.POST if request.method == "POST" else None)
    verdict = None
    if form.is_valid():
        verdict = signin.judge(request, **form.cleaned_data)
        if verdict.refusal is None:
            login(request, verdict.user)
            django_otp.login(request, verdict.device)
            if verdict.device is None and two_factor_required():
                return redirect("admin:two_factor_setup")
            return HttpResponseRedirect(target)  # a URL, never a view name
        form.add_error(None, _refusal_message(verdict))
    throttled = verdict is not None and verdict.refusal is signin.Refusal.THROTTLED
    context = {"form": form, "title": _("Log in"), "app_path": request.get_full_path()}
    response = _page(
        request, site, "admin/login.html", {**context, "next": target}, 429 if throttled else 200
    )
    if throttled:
        response["Retry-After"] = str(verdict.wait_minutes * 60)
    return response


def _enrolling_user(request: HttpRequest):
    """The signed-in staff member setting up a second factor, or None."""
    user = request.user
    return user if needs_enrolment(user) else None


@never_cache
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_setup(request: HttpRequest, site) -> HttpResponse:
    user = _enrolling_user(request)
    if user is None:
        if request.user.is_authenticated and request.user.is_staff:
            return redirect("admin:index")
        return redirect(f"{reverse('admin:login')}?{REDIRECT_FIELD_NAME}={request.path}")
    device = enrolment.pending_device(user)
    form = ConfirmDeviceForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        codes = enrolment.confirm(device, form.cleaned_data["code"])
        if codes is not None:
            device.refresh_from_db()
            django_otp.login(request, device)
            request.session[RECOVERY_CODES_KEY] = codes
            return redirect("admin:two_factor_recovery_codes")
        form.add_error(
            "code",
            _(
                "That code is not right. Check that your phone's clock is set automatically "
                "and type the newest code."
            ),
        )
    context = {
        "form": form,
        "title": _("Set up two-factor sign-in"),
        "secret": enrolment.readable_secret(device),
    }
    return _page(request, site, "admin/staff_auth/two_factor_setup.html", context)


@never_cache
@require_GET
def two_factor_qr(request: HttpRequest, site) -> HttpResponse:
    """The QR code of the app being set up, as an image from our own origin."""
    user = _enrolling_user(request)
    if user is None:
        raise Http404
    svg = enrolment.qr_svg(enrolment.pending_device(user))
    return HttpResponse(svg, content_type="image/svg+xml")


@never_cache
@require_GET
def two_factor_recovery_codes(request: HttpRequest, site) -> HttpResponse:
    """The recovery codes, once: they leave the session as they are shown."""
    if not (request.user.is_authenticated and request.user.is_staff):
        return redirect("admin:login")
    codes = request.session.pop(RECOVERY_CODES_KEY, None)
    context = {"codes": codes, "title": _("Your recovery codes")}
    return _page(request, site, "admin/staff_auth/recovery_codes.html", context)
