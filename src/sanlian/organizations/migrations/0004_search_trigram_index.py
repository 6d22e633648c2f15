"""PostgreSQL: trigram indexes so pinyin/name search stays fast at city scale.
(SQLite scans; at the embedded default's sizes that is fast enough.)"""

from django.db import migrations

TABLES = ("organizations_person", "organizations_organization", "organizations_community")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for t in TABLES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {t}_search_trgm ON {t} USING gin (search_text gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for t in TABLES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {t}_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("organizations", "0003_link1_backfill")]

    operations = [migrations.RunPython(create, drop)]
