"""Signing staff in to the admin and running changelist actions, for admin tests."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

ORDER_CHANGELIST = "admin:orders_order_changelist"


def make_staff(client, username: str, codenames: list[str]):
    """`client` signed in as a new staff user with exactly these permissions."""
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    user = get_user_model().objects.get(pk=user.pk)  # no cached permissions
    client.force_login(user)
    client.user = user
    return client


def run_action(client, action: str, objects, *, changelist: str = ORDER_CHANGELIST, **form):
    """POST a changelist action for `objects`, as the admin's action bar does."""
    data = {"action": action, "_selected_action": [o.pk for o in objects], **form}
    return client.post(reverse(changelist), data)
