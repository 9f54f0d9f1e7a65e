"""What support's tables mark for kept answers (preorder_shop 0010): a notice written,
published or withdrawn marks everything ('g'); a notice's start and end, which pass with no
write, are told by its changes_at fact (support.panels)."""

from django.db import migrations

from preorder_shop.change_marks import mark_changes

MARKS = [mark_changes(name="notice", table="support_notice", scope="g", ids="0")]


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0006_agent_tools"),
        ("preorder_shop", "0010_kept_answers"),
    ]

    operations = [migrations.RunSQL(forward, backward) for forward, backward in MARKS]
