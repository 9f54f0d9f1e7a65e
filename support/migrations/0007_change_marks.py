"""What support's tables mark for kept answers (preorder_shop 0010): a notice written,
published or withdrawn marks everything ('g'); a notice's start and end, which pass with no
write, are told by its changes_at fact (support.panels)."""

from django.db import migrations

MARKS = r"""
CREATE FUNCTION preorder_shop_mark_notice() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM preorder_shop_changed_all('g', ARRAY(SELECT 0 FROM old_rows x));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM preorder_shop_changed_all('g', ARRAY(SELECT 0 FROM new_rows x));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER mark_notice_insert AFTER INSERT ON support_notice
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_notice();
CREATE TRIGGER mark_notice_update AFTER UPDATE ON support_notice
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_notice();
CREATE TRIGGER mark_notice_delete AFTER DELETE ON support_notice
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION preorder_shop_mark_notice();
"""

MARKS_BACKWARD = r"""
DROP TRIGGER mark_notice_insert ON support_notice;
DROP TRIGGER mark_notice_update ON support_notice;
DROP TRIGGER mark_notice_delete ON support_notice;
DROP FUNCTION preorder_shop_mark_notice();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0006_agent_tools"),
        ("preorder_shop", "0010_kept_answers"),
    ]

    operations = [migrations.RunSQL(MARKS, MARKS_BACKWARD)]
