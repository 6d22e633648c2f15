"""Each page of the pages benchmark's mix, once in-process: time, query count, slowest queries.

Not a benchmark (no load, no reference): the tool for finding which page of the mix is slow and
why before `python -m bench --only pages` measures it under load.

    .venv/bin/python -m bench.profile_pages --scale city [--user cadre] [--samples 3]
"""

from __future__ import annotations

import argparse
import os
import random
import time

from .common import bench_env, default_db_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="city")
    parser.add_argument("--db-url")
    parser.add_argument("--user", action="append", help="only these demo accounts")
    parser.add_argument("--samples", type=int, default=2, help="paths per page kind")
    parser.add_argument("--top", type=int, default=3, help="slowest queries shown per path")
    args = parser.parse_args()
    url = args.db_url or default_db_url(args.scale)
    os.environ.update(bench_env(url))
    os.environ.setdefault("SANLIAN_BENCH_REFERENCE_PAGE", "1")

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from sanlian.core.models import User

    from . import pages

    settings.ALLOWED_HOSTS = ["*"]
    rng = random.Random(7)
    survey = pages.survey_for_results(
        User.objects.get(username="city"), User.objects.get(username="cadre")
    )
    from django.urls import reverse

    survey_path = reverse("delivery:survey_results", args=[survey.pk])
    for username, _count in pages.USERS:
        if args.user and username not in args.user:
            continue
        client = Client()
        client.force_login(User.objects.get(username=username))
        for kind in pages.mix(username, rng, survey_path):
            for path in list(kind.paths)[: args.samples]:
                for attempt in ("cold", "warm"):
                    with CaptureQueriesContext(connection) as ctx:
                        t0 = time.perf_counter()
                        response = client.get(path)
                        took = (time.perf_counter() - t0) * 1000
                    sql_ms = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
                    print(
                        f"{username:10} {kind.name:32} {attempt} {response.status_code} "
                        f"{took:8.1f} ms  sql {sql_ms:7.1f} ms  {len(ctx):3} q  {path}",
                        flush=True,
                    )
                    if attempt == "warm":
                        slow = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))
                        for q in slow[: args.top]:
                            if float(q["time"]) > 0.005:
                                print(f"      {float(q['time']) * 1000:7.1f} ms  {q['sql'][:300]}")


if __name__ == "__main__":
    main()
