"""One index per need on the people and membership tables, which a large import writes
100,000 rows at a time: every index is written for every row.

- person.name: Django's plain and prefix (varchar_pattern_ops) indexes stay; 0005's
  person_name_prefix_idx was the same prefix index a second time.
- person.id_number_hash: compared whole only, so its prefix index goes (the plain one stays,
  under an explicit name).
- person.phone: found by prefix and by equality; the prefix index serves both.
- membership.card_number: compared whole only.

The database side is written out: Django's AlterField (db_index=True → False) drops every
index on the column it finds, partial unique ones included (person_unique_active_id_number,
membership_card_number_unique_active), which must stay.
"""

from django.conf import settings
from django.db import migrations, models

# (table, column, keep: "plain" or "like", new name)
CHANGES = (
    ("organizations_person", "id_number_hash", "plain", "person_id_number_hash_idx"),
    ("organizations_person", "phone", "like", "person_phone_idx"),
    ("organizations_membership", "card_number", "plain", "membership_card_number_idx"),
)


def _names(schema_editor, table, column):
    plain = schema_editor._create_index_name(table, [column], suffix="")
    return plain, schema_editor._create_index_name(table, [column], suffix="_like")


def forwards(apps, schema_editor):
    q = schema_editor.quote_name
    pg = schema_editor.connection.vendor == "postgresql"
    schema_editor.execute("DROP INDEX IF EXISTS person_name_prefix_idx")
    for table, column, keep, new in CHANGES:
        plain, like = _names(schema_editor, table, column)
        if pg:
            drop, kept = (like, plain) if keep == "plain" else (plain, like)
            schema_editor.execute(f"DROP INDEX IF EXISTS {q(drop)}")
            schema_editor.execute(f"ALTER INDEX IF EXISTS {q(kept)} RENAME TO {q(new)}")
        else:  # SQLite: only the plain index exists, and indexes cannot be renamed
            schema_editor.execute(f"DROP INDEX IF EXISTS {q(plain)}")
            schema_editor.execute(f"CREATE INDEX {q(new)} ON {q(table)} ({q(column)})")


def backwards(apps, schema_editor):
    q = schema_editor.quote_name
    pg = schema_editor.connection.vendor == "postgresql"
    for table, column, keep, new in CHANGES:
        plain, like = _names(schema_editor, table, column)
        schema_editor.execute(f"DROP INDEX IF EXISTS {q(new)}")
        schema_editor.execute(f"CREATE INDEX {q(plain)} ON {q(table)} ({q(column)})")
        if pg:
            schema_editor.execute(
                f"CREATE INDEX {q(like)} ON {q(table)} ({q(column)} varchar_pattern_ops)"
            )
    if pg:
        schema_editor.execute(
            "CREATE INDEX person_name_prefix_idx ON organizations_person (name varchar_pattern_ops)"
        )
    else:
        schema_editor.execute("CREATE INDEX person_name_prefix_idx ON organizations_person (name)")


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0005_person_name_prefix_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.RemoveIndex(model_name="person", name="person_name_prefix_idx"),
                migrations.AlterField(
                    model_name="membership",
                    name="card_number",
                    field=models.CharField(max_length=30, verbose_name="会员证号"),
                ),
                migrations.AlterField(
                    model_name="person",
                    name="id_number_hash",
                    field=models.CharField(blank=True, editable=False, max_length=64),
                ),
                migrations.AlterField(
                    model_name="person",
                    name="phone",
                    field=models.CharField(blank=True, max_length=11, verbose_name="手机号"),
                ),
                migrations.AddIndex(
                    model_name="membership",
                    index=models.Index(fields=["card_number"], name="membership_card_number_idx"),
                ),
                migrations.AddIndex(
                    model_name="person",
                    index=models.Index(fields=["id_number_hash"], name="person_id_number_hash_idx"),
                ),
                migrations.AddIndex(
                    model_name="person",
                    index=models.Index(
                        fields=["phone"], name="person_phone_idx", opclasses=["varchar_pattern_ops"]
                    ),
                ),
            ],
        )
    ]
