"""Install the database guards that make the audit trail append-only."""

from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    from sanlian.core import audit_guard

    audit_guard.install(schema_editor.connection)


def backwards(apps: Any, schema_editor: Any) -> None:
    with schema_editor.connection.cursor() as cur:
        if schema_editor.connection.vendor == "postgresql":
            cur.execute("DROP TRIGGER IF EXISTS core_auditentry_guard ON core_auditentry")
            cur.execute("DROP TRIGGER IF EXISTS core_auditentry_truncate_guard ON core_auditentry")
            cur.execute("DROP FUNCTION IF EXISTS core_audit_guard()")
        else:
            cur.execute("DROP TRIGGER IF EXISTS core_auditentry_no_update")
            cur.execute("DROP TRIGGER IF EXISTS core_auditentry_no_early_delete")


class Migration(migrations.Migration):
    dependencies = [("core", "0002_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
