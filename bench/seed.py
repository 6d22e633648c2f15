"""The bench database of a scale: created if missing, migrated, seeded once (then reused)."""

from __future__ import annotations

import json
import pstats
import time
from datetime import datetime
from pathlib import Path

from .common import (
    CACHE,
    Results,
    bench_env,
    db_name,
    ensure_database,
    python,
    run_child,
    sanlian,
    secs,
)

CITY_SEED_TARGET = "city < 15 min"


def _record_path(url: str) -> Path:
    return CACHE / f"seed-{db_name(url)}.json"


def _counts(outcome: dict[str, object]) -> str:
    return ", ".join(
        f"{k} {v:,}" for k, v in outcome.items() if isinstance(v, int) and not isinstance(v, bool)
    )


def is_seeded(url: str) -> bool:
    """What demo.is_seeded asks: is there a city federation? (Read before running the seed
    command, whose output repeats the first seed's result when it has nothing to do.)"""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT 1 FROM organizations_organization WHERE kind = 'federation' LIMIT 1"
        ).fetchone()
    return row is not None


def vacuum(url: str, record: Path, results: Results) -> None:
    """VACUUM (ANALYZE) a freshly seeded database once, as autovacuum would soon after a bulk
    load in production (it is off on our machines): without the visibility map no count can
    be answered from an index alone, and the pages' plans would be those of a database no
    one runs. Timed apart from the seed."""
    earlier = json.loads(record.read_text()) if record.exists() else {}
    if earlier.get("vacuum_seconds") is not None:
        results.add("seed", "VACUUM (ANALYZE) after the seed", secs(earlier["vacuum_seconds"]))
        return
    import psycopg

    print("VACUUM (ANALYZE) after the seed …", flush=True)
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    took = time.perf_counter() - t0
    if record.exists():
        record.write_text(json.dumps({**earlier, "vacuum_seconds": took}, ensure_ascii=False))
    results.add("seed", "VACUUM (ANALYZE) after the seed", secs(took), "as autovacuum would")


def prepare(url: str, scale: str, results: Results, *, profile: bool = False) -> None:
    created = ensure_database(url)
    env = bench_env(url)
    migrate = run_child(sanlian("migrate", "--noinput", "-v0"), env)
    if migrate.returncode:
        raise SystemExit(f"migrate failed:\n{migrate.stderr}")
    record = _record_path(url)
    target = CITY_SEED_TARGET if scale == "city" else ""
    if is_seeded(url):
        note = "reused"
        if record.exists():
            earlier = json.loads(record.read_text())
            note = (
                f"reused; seeded on {earlier['date']} in {secs(earlier['seconds'])},"
                f" peak RSS {earlier['max_rss_mb']:.0f} MB"
            )
        results.add("seed", f"seed --scale {scale}", note, target)
        if record.exists():
            results.add("seed", "rows generated", _counts(json.loads(record.read_text())["counts"]))
        vacuum(url, record, results)
        return
    prof = CACHE / f"seed-{db_name(url)}.prof"
    cmd = sanlian("seed", "--scale", scale)
    if profile:
        cmd = python("-m", "cProfile", "-o", str(prof), "-m", "sanlian", "seed", "--scale", scale)
    print(f"seed --scale {scale} into {db_name(url)} (reused when already seeded) …", flush=True)
    seed = run_child(cmd, env)
    if seed.returncode:
        raise SystemExit(f"seed failed:\n{seed.stderr[-4000:]}")
    outcome = json.loads(seed.stdout.splitlines()[0])
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(
        json.dumps(
            {
                "date": datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"),
                "seconds": seed.seconds,
                "max_rss_mb": seed.max_rss_mb,
                "counts": outcome,
                "profiled": profile,
            },
            ensure_ascii=False,
        )
    )
    how = " (under cProfile)" if profile else ""
    results.add(
        "seed",
        f"seed --scale {scale}{how}",
        f"{secs(seed.seconds)} · peak RSS {seed.max_rss_mb:.0f} MB"
        + (" · database created" if created else ""),
        target,
    )
    results.add("seed", "rows generated", _counts(outcome))
    vacuum(url, record, results)
    if profile:
        print("seed profile, top 20 by own time:")
        pstats.Stats(str(prof)).sort_stats("tottime").print_stats(20)
