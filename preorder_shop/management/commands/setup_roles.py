from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from preorder_shop.roles import ROLES, setup_roles


class Command(BaseCommand):
    help = (
        "Create the staff role groups with exactly their permissions (idempotent; run after "
        "migrate)."
    )

    def handle(self, *args, **options):
        for role, (group, created) in zip(ROLES, setup_roles(), strict=True):
            line = (
                _("Created role '%(name)s': %(count)d permissions (%(label)s).")
                if created
                else _("Role '%(name)s': %(count)d permissions (%(label)s).")
            )
            self.stdout.write(
                line
                % {"name": group.name, "count": group.permissions.count(), "label": role.label}
            )
