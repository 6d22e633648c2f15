"""`python -m bench [--scale small|medium|city] [--only seed,search,import,survey,pages,dashboards,allocation] [--db-url URL]`.

Prints one Markdown table of every figure and writes it to bench/results.md."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime

from .common import BENCH_DIR, Results, bench_env, db_name, default_db_url, machine

STEPS = ("seed", "search", "import", "survey", "pages", "dashboards", "allocation")
SCALES = ("small", "medium", "city")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", choices=SCALES, default="city")
    parser.add_argument(
        "--only",
        default=",".join(STEPS),
        help="comma-separated steps among " + ", ".join(STEPS) + " (default: all)",
    )
    parser.add_argument("--db-url", help="PostgreSQL URL (default: sanlian_bench_<scale>)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the import file")
    parser.add_argument("--queries", type=int, default=300, help="search queries per user")
    parser.add_argument(
        "--survey-seconds", type=float, default=10, help="seconds of survey answering load"
    )
    parser.add_argument(
        "--survey-responses",
        type=int,
        default=100_000,
        help="responses of the survey whose results page is timed",
    )
    parser.add_argument(
        "--pages-seconds",
        type=float,
        default=60,
        help="seconds of the pages and API load (20 users)",
    )
    parser.add_argument(
        "--profile-seed", action="store_true", help="run the seed under cProfile (slower)"
    )
    parser.add_argument(
        "--output",
        default=str(BENCH_DIR / "results.md"),
        help="where to write the table ('-' for nowhere)",
    )
    args = parser.parse_args(argv)
    args.steps = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.steps) - set(STEPS)
    if unknown:
        parser.error(
            f"unknown step(s) {', '.join(sorted(unknown))}; choose among {', '.join(STEPS)}"
        )
    args.db_url = args.db_url or default_db_url(args.scale)
    if not args.db_url.startswith(("postgres://", "postgresql://")):
        parser.error("the bench runs on PostgreSQL: --db-url postgres://…")
    return args


def setup_django(url: str) -> None:
    os.environ.update(bench_env(url))
    import django

    django.setup()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    # Before django.setup(), which switches the process to the project's time zone.
    when = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    results = Results()
    print(f"bench: scale={args.scale} steps={','.join(args.steps)} db={db_name(args.db_url)}")
    from . import seed

    # Search and import need a seeded database: without the seed step it is still
    # created, migrated and seeded if missing (and reused otherwise).
    seed.prepare(args.db_url, args.scale, results, profile=args.profile_seed)
    machine(results, args.db_url)
    setup_django(args.db_url)
    if "search" in args.steps or "import" in args.steps:
        from .imports import delete_bench_rows, settle_tables

        # Back to the seeded state: what an earlier run's import step added goes first.
        t0 = time.perf_counter()
        if deleted := delete_bench_rows():
            print(
                f"removed {deleted:,} imported people of an earlier run ({time.perf_counter() - t0:.1f} s)"
            )
        print(f"vacuum analyze of people and memberships ({settle_tables():.1f} s)", flush=True)
    if "search" in args.steps:
        from . import search

        search.run(results, queries=args.queries)
    if "import" in args.steps:
        from . import imports

        imports.run(results, url=args.db_url, rows=args.rows)
    if "survey" in args.steps:
        from . import surveys

        surveys.run(
            results,
            url=args.db_url,
            seconds=args.survey_seconds,
            responses=args.survey_responses,
        )
    if "pages" in args.steps:
        from . import pages

        pages.run(results, url=args.db_url, seconds=args.pages_seconds)
    if "dashboards" in args.steps:
        from . import dashboards

        dashboards.run(results)
        from . import aggregates

        aggregates.run(results, url=args.db_url)
    if "allocation" in args.steps:
        from . import allocation

        print("allocation: 1,500 communities, 6,000 candidates (HiGHS) …", flush=True)
        allocation.run(results)
    table = results.markdown()
    header = (
        f"# Sanlian benchmark results ({args.scale})\n\n"
        f"Produced by `python -m bench --scale {args.scale} --only {','.join(args.steps)}`"
        f" (`make bench SCALE={args.scale}`) on {when}, "
        f"{time.perf_counter() - started:.0f} s in all; overwritten by every run. "
        "See bench/README.md for what each figure measures.\n\n"
    )
    print()
    print(table)
    if args.output != "-":
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(header + table + "\n")
        print(f"\nwritten to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
