"""The Excel import at scale: a people/members file through the real import path
(`sanlian import_xlsx` in a child process), its parsing alone with each reader, and
PostgreSQL's COPY of the same rows as the reference.

Re-runs: every imported row carries a member card number starting with CARD_PREFIX and an
ID number of REGION (no seeded person has either); before search and import run, the bench
deletes the people and memberships an earlier run imported (`delete_bench_rows`), so both
start from the seeded state.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from .common import (
    CACHE,
    Child,
    Results,
    bench_env,
    db_name,
    python,
    ratio,
    run_child,
    sanlian,
    secs,
)

CARD_PREFIX = "BENCH"
REGION = "210202"  # 大连市中山区: the seeded city's people are all of Shenyang's districts
TARGET_SECONDS = 30
MOBILE_PREFIXES = ("139", "138", "186", "151", "177", "189", "155", "132")
FILE_VERSION = 1  # bump when the generated rows change, so cached files are rebuilt


def community_names() -> list[str]:
    """How a sheet names each community: its name, or 街道/社区 where the name repeats."""
    from sanlian.organizations.models import Community

    communities = list(Community.objects.select_related("street").order_by("pk"))
    seen = Counter(c.name for c in communities)
    return [c.name if seen[c.name] == 1 else f"{c.street.name}/{c.name}" for c in communities]


def generate_rows(n: int, communities: list[str], offset: int = 0) -> Iterator[list[Any]]:
    """Rows of the people template, one union member each, unique by ID and card number."""
    from sanlian.core.validators import generate_resident_id
    from sanlian.organizations.demo import GIVEN_FEMALE, GIVEN_MALE, ROADS, SURNAMES, WORKPLACES

    rng = random.Random(f"bench-import-{offset}")
    for i in range(offset, offset + n):
        sequence = i % 1000
        male = sequence % 2 == 1  # GB 11643: the 17th digit is odd for men
        born = date(1950, 1, 1) + timedelta(days=(i // 1000) * 131)
        given = GIVEN_MALE if male else GIVEN_FEMALE
        name = rng.choice(SURNAMES) + "".join(
            rng.choice(given) for _ in range(rng.choice((1, 2, 2)))
        )
        retired = born.year < (1966 if male else 1971)
        joined = date(rng.randint(1995, 2025), rng.randint(1, 12), rng.randint(1, 28))
        yield [
            name,
            "男" if male else "女",
            generate_resident_id(REGION, born, sequence),
            rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}",
            rng.choice(communities),
            f"{rng.choice(ROADS)}{rng.randint(1, 300)}号{rng.randint(1, 30)}栋",
            "" if retired else rng.choice(WORKPLACES),
            "是" if retired else "否",
            "否",
            f"{CARD_PREFIX}{i:08d}",
            "",
            joined,
            "正常",
            None,
        ]


def headers() -> list[str]:
    from sanlian.organizations.importers import PEOPLE

    return [c.header for c in PEOPLE.columns]


def write_xlsx(path: Path, rows: Iterator[list[Any]]) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("居民与会员")
    ws.append(headers())
    for row in rows:
        ws.append(row)
    tmp = path.with_suffix(".tmp")
    wb.save(tmp)
    tmp.replace(path)


def xlsx_file(url: str, n: int, communities: list[str], offset: int) -> Path:
    digest = hashlib.sha256("\n".join(communities).encode()).hexdigest()[:8]
    path = CACHE / f"people-{db_name(url)}-{n}-{offset}-{digest}-v{FILE_VERSION}.xlsx"
    if not path.exists():
        started = time.perf_counter()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_xlsx(path, generate_rows(n, communities, offset))
        print(f"  wrote {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def delete_bench_rows() -> int:
    """Remove what earlier runs imported (people and memberships with the bench card prefix)."""
    from django.db import connection, transaction

    from sanlian.organizations.models import Membership, Person

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"WITH m AS (DELETE FROM {Membership._meta.db_table} WHERE card_number LIKE %s"  # noqa: S608
            f" RETURNING person_id) DELETE FROM {Person._meta.db_table} WHERE id IN (SELECT person_id FROM m)",
            [CARD_PREFIX + "%"],
        )
        return cur.rowcount


def settle_tables() -> float:
    """VACUUM ANALYZE the tables the import writes, as autovacuum keeps them in production
    (this machine's PostgreSQL runs without autovacuum: after the seed and after
    `delete_bench_rows` the planner would see no statistics and a million dead rows)."""
    from django.db import connection

    from sanlian.organizations.models import Membership, Person

    started = time.perf_counter()
    with connection.cursor() as cur:
        for model in (Person, Membership):
            cur.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")
    return time.perf_counter() - started


_OUTCOME = re.compile(r"run=(\S+).*?imported=(\d+) updated=(\d+) rejected=(\d+)", re.S)


def import_file(url: str, path: Path) -> tuple[Child, dict[str, Any]]:
    """`sanlian import_xlsx --kind people FILE --user city` in a child process."""
    from sanlian.core.models import TaskRun

    child = run_child(
        sanlian("import_xlsx", "--kind", "people", str(path), "--user", "city"), bench_env(url)
    )
    match = _OUTCOME.search(child.stdout)
    if child.returncode or match is None:
        raise SystemExit(
            f"import_xlsx failed ({child.returncode}):\n{child.stdout}\n{child.stderr[-4000:]}"
        )
    run = TaskRun.objects.get(pk=match[1])
    outcome = {
        "imported": int(match[2]),
        "updated": int(match[3]),
        "rejected": int(match[4]),
        "reader": (run.result or {}).get("reader", "?"),
    }
    return child, outcome


def parse(url: str, reader: str, path: Path) -> tuple[int, float, float]:
    """(rows, seconds inside the child, peak RSS in MB) of reading the file with one reader."""
    child = run_child(python("-m", "bench.parse", reader, str(path)), bench_env(url))
    if child.returncode:
        raise SystemExit(f"parse with {reader} failed:\n{child.stderr[-4000:]}")
    rows, seconds = child.stdout.split()
    return int(rows), float(seconds), child.max_rss_mb


def copy_reference(url: str, rows: list[list[Any]]) -> float:
    """Seconds to COPY the same rows, as CSV, into a temporary table of the same columns."""
    import psycopg

    from sanlian.organizations.importers import PEOPLE

    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow(
            ["" if v is None else v.isoformat() if isinstance(v, date) else v for v in row]
        )
    data = buf.getvalue()
    columns = ", ".join(f'"{c.field}" text' for c in PEOPLE.columns)
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute(f"CREATE TEMPORARY TABLE bench_people ({columns})")
            with cur.copy("COPY bench_people FROM STDIN (FORMAT csv)") as copy:
                copy.write(data)
        conn.commit()
        seconds = time.perf_counter() - started
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM bench_people")
            copied = cur.fetchone()
    assert copied and copied[0] == len(rows), copied
    return seconds


def run(results: Results, *, url: str, rows: int) -> None:
    from sanlian.organizations.models import Membership, Person

    imports = Path(bench_env(url)["SANLIAN_DATA_DIR"]) / "imports"
    for old in imports.glob("*") if imports.exists() else []:
        old.unlink()  # the copies earlier import runs kept
    names = community_names()
    small_rows = max(1, rows // 10)
    print(f"import: {rows:,}-row and {small_rows:,}-row files …", flush=True)
    big = xlsx_file(url, rows, names, offset=0)
    small = xlsx_file(url, small_rows, names, offset=rows)
    size_mb = big.stat().st_size / 1024 / 1024
    bench = "import"

    for reader, label in (
        ("calamine", "python-calamine"),
        ("openpyxl", "openpyxl read-only"),
        ("streaming", "the import's streaming reader (Django loaded)"),
    ):
        n, seconds, rss = parse(url, reader, big)
        _n, _seconds, small_rss = parse(url, reader, small)
        results.add(
            bench,
            f"parse alone: {label}",
            f"{secs(seconds)} · {n / seconds:,.0f} rows/s · peak RSS {rss:.0f} MB"
            f" ({small_rss:.0f} MB at {small_rows:,} rows)",
        )

    people_before = Person.objects.count()
    first_small, small_outcome = import_file(url, small)
    first, outcome = import_file(url, big)
    people_after = Person.objects.count()
    again, again_outcome = import_file(url, big)
    people_again = Person.objects.count()
    members = Membership.objects.filter(card_number__startswith=CARD_PREFIX).count()

    results.add(
        bench,
        "file",
        f"{rows:,} rows · {size_mb:.1f} MB xlsx · import reader {outcome['reader']}",
        "openpyxl write-only; valid, unique ID and card numbers",
    )
    results.add(
        bench,
        f"import_xlsx --kind people (new people, {rows:,} rows)",
        f"{secs(first.seconds)} · {rows / first.seconds:,.0f} rows/s · peak RSS {first.max_rss_mb:.0f} MB",
        f"target < {TARGET_SECONDS} s; imported {outcome['imported']:,}, updated {outcome['updated']:,},"
        f" rejected {outcome['rejected']:,}",
    )
    results.add(
        bench,
        f"import_xlsx, {small_rows:,}-row file (memory vs file size)",
        f"{secs(first_small.seconds)} · peak RSS {first_small.max_rss_mb:.0f} MB",
        f"peak RSS ×{first.max_rss_mb / first_small.max_rss_mb:.1f} for ×{rows / small_rows:.0f} rows;"
        f" imported {small_outcome['imported']:,}, rejected {small_outcome['rejected']:,}",
    )
    results.add(
        bench,
        "re-import of the same file (updates)",
        f"{secs(again.seconds)} · {rows / again.seconds:,.0f} rows/s · peak RSS {again.max_rss_mb:.0f} MB",
        f"imported {again_outcome['imported']:,}, updated {again_outcome['updated']:,};"
        f" people {people_after - people_before:+,} then {people_again - people_after:+,}"
        f" ({'no duplicates' if people_again == people_after else 'DUPLICATES'}), {members:,} bench members",
    )
    data = list(generate_rows(rows, names, 0))
    copy_seconds = copy_reference(url, data)
    results.add(
        bench,
        f"reference: COPY {rows:,} rows (CSV) into a temporary table",
        f"{secs(copy_seconds)} · {rows / copy_seconds:,.0f} rows/s",
    )
    results.add(bench, "ratio import / COPY", ratio(first.seconds, copy_seconds))
