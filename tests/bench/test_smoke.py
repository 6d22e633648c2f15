"""The benchmark suite runs end to end at small scale and prints its table (no timings asserted:
speed is measured by `make bench`, never by a test)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from bench.common import CACHE, ROOT, db_name, drop_database, with_db

DATABASE_URL = os.environ.get("DATABASE_URL", "")

pytestmark = pytest.mark.skipif(
    not DATABASE_URL.startswith(("postgres://", "postgresql://")),
    reason="the benchmarks run on PostgreSQL only (this runs in the PostgreSQL suite)",
)

EXPECTED_ROWS = (
    "| search as city | all queries (n=",
    "| search as city | reference: pk fetch (n=",
    "| search as city | ratio p95 search / p95 reference |",
    "| search as cadre | all queries (n=",
    "| search as cadre | ratio p95 search / p95 reference |",
    "| import | parse alone: python-calamine |",
    "| import | parse alone: openpyxl read-only |",
    "| import | import_xlsx --kind people (new people, 500 rows) |",
    "| import | re-import of the same file (updates) |",
    "| import | reference: COPY 500 rows (CSV) into a temporary table |",
    "| import | ratio import / COPY |",
    "| machine | PostgreSQL |",
    "| pages | paced users: all pages and API calls (n=",
    "| pages | saturation: all pages and API calls (n=",
    "| pages | errors (any status but 200) | 0 of ",
    "| pages | reference: GET /bench/reference/ (n=",
    "| pages | throughput as a share of the reference |",
    "| pages | web worker peak memory (VmHWM) after the load, max · mean of ",
    "| dashboards | refresh of every area's snapshot (background task) |",
    "| dashboards as city staff | every page (n=",
    "| dashboards as city staff | reference: city page computed live (cold, warm) |",
    "| dashboards vs DuckDB | beneficiaries counted once |",
    "| dashboards vs DuckDB | all six, warm: PostgreSQL / DuckDB |",
    "| allocation | solve (HiGHS MIP), total |",
    "| allocation | overhead (total − solver) / solver |",
)


@pytest.fixture
def throwaway_url() -> Iterator[str]:
    url = with_db(DATABASE_URL, f"sanlian_bench_smoke_{uuid.uuid4().hex[:12]}")
    yield url
    drop_database(url)
    name = db_name(url)
    for path in CACHE.glob(f"*{name}*"):  # its import files and seed record
        path.unlink()
    shutil.rmtree(CACHE / "data" / name, ignore_errors=True)


def test_bench_runs_and_prints_its_table(throwaway_url: str) -> None:
    cmd = [
        sys.executable,
        "-m",
        "bench",
        "--scale",
        "small",
        "--only",
        "search,import,pages,dashboards,allocation",
    ]
    cmd += ["--pages-seconds", "5"]
    cmd += ["--rows", "500", "--queries", "40", "--db-url", throwaway_url, "--output", "-"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=480, check=False)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = done.stdout[done.stdout.index("| benchmark | figure |") :]
    missing = [row for row in EXPECTED_ROWS if row not in table]
    assert not missing, table
    assert "(no duplicates)" in table
