# ruff: noqa: S608  (SQL built from this file's constants and dates, never from input)
"""The dashboards' aggregates on PostgreSQL against DuckDB over the same data in Parquet.

The dashboard of the city is a set of GROUP BYs over the whole city for the last twelve
months. Six of them, written once in SQL that both engines run unchanged (the same table
names: in DuckDB they are views over Parquet files), are timed on each engine, cold (the
first run on a new connection) and warm (the best of three more): members by tier, sex, age
band and work; the most chosen needs by tier; demands by status and tier with satisfaction;
beneficiaries counted once across cases, case contacts, group sessions and activities; the
distinct times of case contacts (for the hours outside the working day); confirmed volunteer
hours by team and month. Each query's result is compared across the engines (rows and the
total of its last column), so the two answer the same question.

The Parquet files are exported once per bench database (PostgreSQL `COPY … TO STDOUT` as CSV,
then DuckDB's `COPY … TO … (FORMAT parquet)`) into bench/.cache/parquet/<db>/ and reused
while the tables' row counts are unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .common import CACHE, Results, db_name, ms, ratio, secs

# The columns each aggregate reads, per table (what is exported).
TABLES: dict[str, tuple[str, ...]] = {
    "organizations_organization": ("id", "path"),
    "organizations_community": ("id", "organization_id", "tier"),
    "organizations_person": (
        "id",
        "community_id",
        "sex",
        "birth_date",
        "is_retired",
        "is_new_employment",
    ),
    "organizations_membership": ("id", "person_id", "union_id", "status"),
    "organizations_volunteer": ("id", "team_id"),
    "organizations_volunteerhourlog": ("id", "volunteer_id", "served_on", "hours", "status"),
    "delivery_question": ("id", "is_need_question"),
    "delivery_questionoption": ("id", "text"),
    "delivery_surveyresponse": ("id", "community_id", "submitted_at"),
    "delivery_answer": ("id", "response_id", "community_id", "question_id", "option_id"),
    "delivery_demand": ("id", "community_id", "status", "received_at", "satisfaction"),
    "delivery_case": ("id", "person_id", "phase", "opened_on"),
    "delivery_casecontact": ("id", "case_id", "served_on", "start_time", "end_time"),
    "delivery_groupmember": ("id", "person_id"),
    "delivery_groupsession": ("id", "group_id", "held_on"),
    "delivery_groupattendance": ("id", "session_id", "member_id", "status"),
    "delivery_activity": ("id", "community_id", "date", "status"),
    "delivery_registration": ("id", "activity_id", "person_id", "checked_in_at"),
}
# PostgreSQL's type names -> DuckDB's, for reading the CSV exactly.
TYPES = {
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp with time zone": "TIMESTAMPTZ",
    "time without time zone": "TIME",
    "numeric": "DECIMAL(18,4)",
    "character varying": "VARCHAR",
    "text": "VARCHAR",
}


def queries(today: dt.date) -> dict[str, str]:
    from sanlian.delivery.models.activities import ActivityStatus
    from sanlian.delivery.models.cases import TAKEN_PHASES
    from sanlian.delivery.models.groups import GROUP_ATTENDED

    # The dashboards' own twelve months and age bands, so that both engines answer the same.
    from sanlian.insights.services.dashboard import _years_before, period_ending

    first = period_ending(today).first
    since = f"{first.isoformat()} 00:00:00+08"

    def quoted(values: tuple[str, ...] | list[str]) -> str:
        return ", ".join(f"'{v}'" for v in values)

    y35, y50, y60 = (_years_before(today, n) for n in (35, 50, 60))
    taken, attended = quoted(TAKEN_PHASES), quoted([str(s) for s in GROUP_ATTENDED])
    live = quoted([ActivityStatus.PUBLISHED, ActivityStatus.DONE])
    return {
        "members by tier, sex, age band, work": f"""
            SELECT c.tier, p.sex,
                   CASE WHEN p.birth_date IS NULL THEN 'unknown'
                        WHEN p.birth_date > DATE '{y35}' THEN 'lt35'
                        WHEN p.birth_date > DATE '{y50}' THEN '35_49'
                        WHEN p.birth_date > DATE '{y60}' THEN '50_59'
                        ELSE 'ge60' END AS band,
                   p.is_retired, p.is_new_employment, COUNT(*) AS n
            FROM organizations_membership m
            JOIN organizations_person p ON p.id = m.person_id
            JOIN organizations_community c ON c.id = p.community_id
            WHERE m.status = 'active'
            GROUP BY 1, 2, 3, 4, 5""",
        "needs by option and tier": f"""
            SELECT o.text, c.tier, COUNT(*) AS n
            FROM delivery_answer a
            JOIN delivery_question q ON q.id = a.question_id
            JOIN delivery_questionoption o ON o.id = a.option_id
            JOIN delivery_surveyresponse r ON r.id = a.response_id
            JOIN organizations_community c ON c.id = a.community_id
            WHERE q.is_need_question AND r.submitted_at >= TIMESTAMPTZ '{since}'
            GROUP BY 1, 2""",
        "demands by status and tier": f"""
            SELECT d.status, c.tier, SUM(d.satisfaction) AS points, COUNT(*) AS n
            FROM delivery_demand d
            JOIN organizations_community c ON c.id = d.community_id
            WHERE d.received_at >= TIMESTAMPTZ '{since}'
            GROUP BY 1, 2""",
        "beneficiaries counted once": f"""
            SELECT COUNT(DISTINCT u.pid) AS n FROM (
                SELECT k.person_id AS pid FROM delivery_case k
                 WHERE k.phase IN ({taken}) AND k.opened_on >= DATE '{first}'
                UNION ALL
                SELECT k.person_id FROM delivery_casecontact cc
                  JOIN delivery_case k ON k.id = cc.case_id
                 WHERE k.phase IN ({taken}) AND cc.served_on >= DATE '{first}'
                UNION ALL
                SELECT gm.person_id FROM delivery_groupattendance ga
                  JOIN delivery_groupsession gs ON gs.id = ga.session_id
                  JOIN delivery_groupmember gm ON gm.id = ga.member_id
                 WHERE ga.status IN ({attended}) AND gs.held_on >= DATE '{first}'
                UNION ALL
                SELECT r.person_id FROM delivery_registration r
                  JOIN delivery_activity a ON a.id = r.activity_id
                 WHERE r.checked_in_at IS NOT NULL AND a.status IN ({live})
                   AND a.date >= DATE '{first}'
            ) u""",
        "case contacts by day and time": f"""
            SELECT served_on, start_time, end_time, COUNT(*) AS n
            FROM delivery_casecontact
            WHERE served_on >= DATE '{first}'
            GROUP BY 1, 2, 3""",
        "volunteer hours by team and month": f"""
            SELECT o.path, EXTRACT(YEAR FROM l.served_on) AS y, EXTRACT(MONTH FROM l.served_on) AS m,
                   SUM(l.hours) AS hours
            FROM organizations_volunteerhourlog l
            JOIN organizations_volunteer v ON v.id = l.volunteer_id
            JOIN organizations_organization o ON o.id = v.team_id
            WHERE l.status = 'confirmed' AND l.served_on >= DATE '{first}'
            GROUP BY 1, 2, 3""",
    }


# ---- export ------------------------------------------------------------------------------------


def _counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {
            t: int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])  # type: ignore[index]
            for t in TABLES
        }


def _types(conn: object, table: str) -> dict[str, str]:
    rows = conn.execute(  # type: ignore[attr-defined]
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s",
        [table],
    ).fetchall()
    return {name: TYPES[kind] for name, kind in rows if name in TABLES[table]}


def export(url: str) -> tuple[Path, float, bool]:
    """The Parquet directory of the bench database, exported if missing or out of date;
    (directory, seconds the export took, whether it was reused)."""
    import duckdb
    import psycopg

    where = CACHE / "parquet" / db_name(url)
    record = where / "counts.json"
    counts = _counts(url)
    if record.exists() and json.loads(record.read_text()) == counts:
        return where, 0.0, True
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    started = time.perf_counter()
    duck = duckdb.connect()
    with psycopg.connect(url) as conn:
        for table, columns in TABLES.items():
            types = _types(conn, table)
            csv = where / f"{table}.csv"
            with (
                csv.open("wb") as fh,
                conn.cursor().copy(
                    f"COPY (SELECT {', '.join(columns)} FROM {table}) TO STDOUT"
                    " WITH (FORMAT csv, HEADER)"
                ) as copy,
            ):
                for chunk in copy:
                    fh.write(chunk)
            spec = "{" + ", ".join(f"'{c}': '{types[c]}'" for c in columns) + "}"
            duck.execute(
                f"COPY (SELECT * FROM read_csv('{csv}', header = true, columns = {spec}))"
                f" TO '{where / (table + '.parquet')}' (FORMAT parquet)"
            )
            csv.unlink()
    duck.close()
    record.write_text(json.dumps(counts))
    return where, time.perf_counter() - started, False


# ---- timing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    cold: float
    warm: float
    rows: int
    total: float


def _t(seconds: float) -> str:
    return ms(seconds * 1000) if seconds < 1 else secs(seconds)


def _summary(rows: list[tuple[object, ...]]) -> tuple[int, float]:
    return len(rows), round(sum(float(r[-1] or 0) for r in rows), 2)


def _time(run: object, sql: str) -> Timed:
    started = time.perf_counter()
    rows = run(sql)  # type: ignore[operator]
    cold = time.perf_counter() - started
    warm = []
    for _ in range(3):
        started = time.perf_counter()
        run(sql)  # type: ignore[operator]
        warm.append(time.perf_counter() - started)
    n, total = _summary(rows)
    return Timed(cold, min(warm), n, total)


def run(results: Results, *, url: str, today: dt.date | None = None) -> None:
    import duckdb
    import psycopg

    print("dashboards: exporting the tables to Parquet for DuckDB …", flush=True)
    where, seconds, reused = export(url)
    results.add(
        "dashboards vs DuckDB",
        "export of the dashboards' tables to Parquet",
        "reused (row counts unchanged)" if reused else secs(seconds),
        str(where.relative_to(CACHE.parent)),
    )
    day = today or dt.date.today()
    sql = queries(day)
    pg_total, duck_total = 0.0, 0.0
    for name, text in sql.items():
        with psycopg.connect(url) as conn:
            pg = _time(lambda q, c=conn: c.execute(q).fetchall(), text)
        duck = duckdb.connect()
        for table in TABLES:
            duck.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{where / (table + '.parquet')}')"
            )
        dk = _time(lambda q, c=duck: c.execute(q).fetchall(), text)
        duck.close()
        pg_total += pg.warm
        duck_total += dk.warm
        same = (pg.rows, pg.total) == (dk.rows, dk.total)
        results.add(
            "dashboards vs DuckDB",
            name,
            f"PostgreSQL cold {_t(pg.cold)}, warm {_t(pg.warm)} · DuckDB cold"
            f" {_t(dk.cold)}, warm {_t(dk.warm)} · ratio {ratio(pg.warm, dk.warm)}",
            f"{pg.rows:,} rows, same answer"
            if same
            else f"DIFFERENT ANSWERS: PostgreSQL {pg.rows} rows / {pg.total}, DuckDB {dk.rows} rows / {dk.total}",
        )
    results.add(
        "dashboards vs DuckDB",
        "all six, warm: PostgreSQL / DuckDB",
        f"{_t(pg_total)} / {_t(duck_total)} = {ratio(pg_total, duck_total)}",
        "target within 3× of DuckDB, or faster through rollups (the page reads a snapshot)",
    )
