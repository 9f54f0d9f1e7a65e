"""Signing staff in to the admin and running changelist actions, for admin tests."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

ORDER_CHANGELIST = "admin:orders_order_changelist"


def sign_in_to_admin(client, user):
    """`client` signed in as `user` past both factors, as the admin sign-in leaves a session
    (with DEBUG off, as in tests, admin refuses a session without its second factor)."""
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def make_staff(client, username: str, codenames: list[str]):
    """`client` signed in as a new staff user with exactly these permissions."""
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    user = get_user_model().objects.get(pk=user.pk)  # no cached permissions
    sign_in_to_admin(client, user)
    client.user = user
    return client


def run_action(client, action: str, objects, *, changelist: str = ORDER_CHANGELIST, **form):
    """POST a changelist action for `objects`, as the admin's action bar does."""
    data = {"action": action, "_selected_action": [o.pk for o in objects], **form}
    return client.post(reverse(changelist), data)
