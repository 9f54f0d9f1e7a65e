"""Staff roles (preorder_shop.roles): every codename exists, setup_roles is idempotent and
leaves each group exactly its permissions, Auditors read everything and change nothing, and
the demo accounts exist only in DEBUG. What each role reaches in admin: tests/test_role_matrix.py.
"""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command

from preorder_shop import roles

pytestmark = pytest.mark.django_db

# The apps whose rows staff may be shown: the project's own, and staff accounts and roles.
PROJECT_APPS = {
    *("preorder_shop", "reservations", "orders", "fulfillment", "support", "events"),
    *("staff_auth", "otp_totp", "otp_static"),  # staff sign-in and second-factor devices
}


def codenames(group: Group) -> set[str]:
    return {
        f"{app}.{code}"
        for app, code in group.permissions.values_list("content_type__app_label", "codename")
    }


def every_permission() -> set[str]:
    return {
        f"{app}.{code}"
        for app, code in Permission.objects.values_list("content_type__app_label", "codename")
    }


@pytest.mark.parametrize("role", roles.ROLES, ids=lambda r: r.name)
def test_every_codename_of_a_role_exists(role):
    assert role.permissions <= every_permission()


def test_setup_roles_gives_each_group_exactly_its_permissions_and_is_idempotent():
    first = roles.setup_roles()
    ops = Group.objects.get(name=roles.ORDER_OPERATIONS.name)
    ops.permissions.add(Permission.objects.get(codename="delete_campaign"))  # by hand
    second = roles.setup_roles()

    assert [created for _group, created in first] == [True] * len(roles.ROLES)
    assert [created for _group, created in second] == [False] * len(roles.ROLES)
    assert Group.objects.count() == len(roles.ROLES)
    for role in roles.ROLES:
        group = Group.objects.get(name=role.name)
        assert codenames(group) == (every_permission() if role.everything else role.permissions)


def test_a_codename_that_does_not_exist_is_refused():
    typo = roles.Role(name="Typo", label="", permissions=frozenset({"orders.view_ordr"}))

    with pytest.raises(LookupError, match=r"orders\.view_ordr"):
        roles.permissions_of(typo)


def test_auditors_read_every_model_and_change_nothing():
    views = {
        f"{model._meta.app_label}.view_{model._meta.model_name}"
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS | {"auth"}
        and model._meta.model_name != "permission"
    } - {"otp_static.view_statictoken"}  # the recovery codes themselves: secrets

    # A new model fails here until its view permission is added to Auditors (or not, and
    # this test says why).
    assert roles.AUDITORS.permissions == views
    assert roles.PERSONAL_DATA not in roles.AUDITORS.permissions
    assert roles.PERSONAL_DATA_ACCESS_LOG in roles.AUDITORS.permissions


def test_only_administrators_see_personal_data():
    groups = [group for group, _created in roles.setup_roles()]

    holders = [g.name for g in groups if roles.PERSONAL_DATA in codenames(g)]

    assert holders == [roles.ADMINISTRATORS.name]


def test_setup_roles_command_reports_each_role(capsys):
    call_command("setup_roles")
    call_command("setup_roles")

    out = capsys.readouterr().out
    for role in roles.ROLES:
        assert out.count(f"'{role.name}'") == 2
    assert out.count("Created role") == len(roles.ROLES)


def test_demo_staff_one_account_per_role_in_debug(settings, capsys):
    settings.DEBUG = True
    call_command("ensure_demo_staff", password="pw1")
    call_command("ensure_demo_staff", password="pw2")  # again: same accounts, new password

    users = get_user_model().objects.filter(is_staff=True).order_by("username")
    assert {u.username: [g.name for g in u.groups.all()] for u in users} == {
        "administrator": [roles.ADMINISTRATORS.name],
        "agent": [roles.SUPPORT_AGENTS.name],
        "auditor": [roles.AUDITORS.name],
        "events": [roles.EVENT_MANAGERS.name],
        "ops": [roles.ORDER_OPERATIONS.name],
    }
    assert not any(u.is_superuser for u in users)
    assert all(u.check_password("pw2") for u in users)
    assert "ops / pw2: Order operations" in capsys.readouterr().out


def test_demo_staff_refused_without_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="only with DEBUG on"):
        call_command("ensure_demo_staff")
    assert not get_user_model().objects.exists()
