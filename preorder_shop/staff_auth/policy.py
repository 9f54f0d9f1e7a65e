"""Whether staff need a second factor to reach admin."""

from django.conf import settings
from django.http import HttpRequest
from django_otp import user_has_device


def two_factor_required() -> bool:
    """settings.STAFF_REQUIRE_TWO_FACTOR, or when unset, whenever DEBUG is off (read now, so
    the test suite, which pytest-django runs with DEBUG off, meets admin as production does)."""
    required = settings.STAFF_REQUIRE_TWO_FACTOR
    return not settings.DEBUG if required is None else bool(required)


def second_factor_passed(request: HttpRequest) -> bool:
    """The session gave a second factor, or may go without one (DEBUG, no device yet)."""
    user = request.user
    is_verified = getattr(user, "is_verified", None)  # set by django-otp's OTPMiddleware
    if is_verified is not None and is_verified():
        return True
    return not two_factor_required() and not user_has_device(user)


def needs_enrolment(user) -> bool:
    """A staff member signed in with a password who has no second factor to give yet."""
    return user.is_authenticated and user.is_active and user.is_staff and not user_has_device(user)
