"""Campaigns whose festival draw was revealed before the reveal wrote
festival_draw_published_at onto the campaign get it from their draw."""

from django.db import migrations

FORWARD = r"""
UPDATE reservations_campaign c
   SET festival_draw_published_at = d.revealed_at
  FROM fulfillment_festivaldraw d
 WHERE d.campaign_id = c.id AND d.revealed_at IS NOT NULL
   AND c.festival_draw_published_at IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [
        ("fulfillment", "0010_release_due_per_statement"),
        ("reservations", "0006_reservation_history"),
    ]

    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
