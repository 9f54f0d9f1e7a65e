"""Support desk, part 2: callback slots and bookings (issue 15, section 4)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("support", "0004_sla_queue")]

    operations = []
