"""Database-level protection of the audit trail: no UPDATE, no DELETE of young rows, no TRUNCATE.

The guards live in the database so that no code path (ORM, raw SQL, bulk delete) can bypass
them. `suspend` exists only for test-database teardown, which must empty every table.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

# The Cybersecurity Law's minimum; the setting may keep rows longer, never shorter.
MIN_RETENTION_DAYS = 180

PG_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION core_audit_guard() RETURNS trigger AS $$
    BEGIN
      IF coalesce(current_setting('sanlian.audit_maintenance', true), '') = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
      END IF;
      IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit entries are append-only';
      END IF;
      IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'audit entries cannot be truncated';
      END IF;
      IF OLD.at > now() - interval '{MIN_RETENTION_DAYS} days' THEN
        RAISE EXCEPTION 'audit entries younger than {MIN_RETENTION_DAYS} days cannot be deleted';
      END IF;
      RETURN OLD;
    END $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS core_auditentry_guard ON core_auditentry",
    """CREATE TRIGGER core_auditentry_guard BEFORE UPDATE OR DELETE ON core_auditentry
       FOR EACH ROW EXECUTE FUNCTION core_audit_guard()""",
    "DROP TRIGGER IF EXISTS core_auditentry_truncate_guard ON core_auditentry",
    """CREATE TRIGGER core_auditentry_truncate_guard BEFORE TRUNCATE ON core_auditentry
       FOR EACH STATEMENT EXECUTE FUNCTION core_audit_guard()""",
]

SQLITE_INSTALL = [
    """CREATE TRIGGER IF NOT EXISTS core_auditentry_no_update BEFORE UPDATE ON core_auditentry
       BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS core_auditentry_no_early_delete
       BEFORE DELETE ON core_auditentry
       WHEN julianday(OLD.at) > julianday('now', '-{MIN_RETENTION_DAYS} days')
       BEGIN SELECT RAISE(ABORT, 'audit entries younger than {MIN_RETENTION_DAYS} days cannot be deleted'); END""",
]

SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS core_auditentry_no_update",
    "DROP TRIGGER IF EXISTS core_auditentry_no_early_delete",
]


def install(connection: BaseDatabaseWrapper) -> None:
    statements = PG_INSTALL if connection.vendor == "postgresql" else SQLITE_INSTALL
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def suspend(connection: BaseDatabaseWrapper) -> None:
    """For emptying a test database only."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET sanlian.audit_maintenance = 'on'")
        else:
            for sql in SQLITE_UNINSTALL:
                cur.execute(sql)


def resume(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("RESET sanlian.audit_maintenance")
    else:
        install(connection)
