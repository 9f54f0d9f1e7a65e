from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from preorder_shop.roles import (
    ADMINISTRATORS,
    AUDITORS,
    EVENT_MANAGERS,
    ORDER_OPERATIONS,
    SUPPORT_AGENTS,
    setup_roles,
)

# One demo account per role: username -> role.
DEMO_STAFF = {
    "ops": ORDER_OPERATIONS,
    "agent": SUPPORT_AGENTS,
    "events": EVENT_MANAGERS,
    "auditor": AUDITORS,
    "administrator": ADMINISTRATORS,
}


class Command(BaseCommand):
    help = (
        "Development only (DEBUG): one staff account per role, in its role's group alone, "
        "with the given password (idempotent; prints the accounts)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--password", default="demo")

    def handle(self, *args, password: str, **options):
        if not settings.DEBUG:
            raise CommandError(
                _("Demo staff accounts have known passwords: they are made only with DEBUG on.")
            )
        groups = {group.name: group for group, _created in setup_roles()}
        user_model = get_user_model()
        for username, role in DEMO_STAFF.items():
            user, _created = user_model.objects.get_or_create(username=username)
            # The printed password is the one that works, and the account has its role only.
            user.is_staff, user.is_superuser, user.is_active = True, False, True
            user.set_password(password)
            user.save()
            user.groups.set([groups[role.name]])
            self.stdout.write(
                _("%(username)s / %(password)s: %(role)s")
                % {"username": username, "password": password, "role": role.name}
            )
