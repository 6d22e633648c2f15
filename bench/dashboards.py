"""数据看板 at scale: the background refresh that keeps every area's snapshot (how long in all,
by level and the slowest area), the dashboard pages as users open them (Django's test client
in-process: every middleware, the login, the template, the snapshot read), and in the same run
the live computation the snapshots spare them (what a page would cost without rollups)."""

from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict
from typing import Any

from .common import Latency, Results, ratio, secs

TARGET_P95_MS = 500
# Pages opened per level (all districts; a sample of streets and communities), and how many
# times the city page is opened again (warm).
SAMPLES = {"street": 30, "community": 60}
CITY_REPEATS = 20
LEVELS = ("city", "district", "street", "community")


def _level(path: str) -> str:
    depth = path.strip("/").count("/")
    return LEVELS[min(depth, len(LEVELS) - 1)]


def _time_get(client: Any, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}")
    return seconds


def run(results: Results, *, seed: int = 1) -> None:
    from django.test import Client
    from django.urls import reverse

    from sanlian.core.models import User
    from sanlian.insights.models import DashboardSnapshot
    from sanlian.insights.services import dashboard, snapshots

    print("dashboards: refreshing every area's snapshot …", flush=True)
    outcome = snapshots.refresh()
    by_level: dict[str, list[float]] = defaultdict(list)
    for path, seconds in DashboardSnapshot.objects.values_list("area__path", "seconds"):
        by_level[_level(path)].append(seconds)
    results.add(
        "dashboards",
        "refresh of every area's snapshot (background task)",
        f"{secs(outcome['seconds'])} · {outcome['areas']:,} areas · slowest"
        f" {outcome['slowest_area']} {secs(outcome['slowest_seconds'])}",
        f"every {snapshots.refresh_minutes()} min (SANLIAN_DASHBOARD_REFRESH_MINUTES)",
    )
    for level in LEVELS:
        found = by_level.get(level, [])
        if found:
            results.add(
                "dashboards",
                f"figures of one {level} (n={len(found):,})",
                f"mean {secs(statistics.mean(found))} · max {secs(max(found))}",
                "computed live by the refresh",
            )

    user = User.objects.get(username="city")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    url = reverse("insights:dashboard")
    rng = random.Random(f"dashboards-{seed}")
    nodes: dict[str, list[int]] = defaultdict(list)
    for pk, path in DashboardSnapshot.objects.order_by("area_id").values_list(
        "area_id", "area__path"
    ):
        nodes[_level(path)].append(pk)
    _time_get(client, url)  # the first request of the process (imports, template loading)
    timings: dict[str, list[float]] = defaultdict(list)
    timings["city"] = [_time_get(client, url) for _ in range(CITY_REPEATS)]
    timings["district"] = [_time_get(client, f"{url}?area={pk}") for pk in nodes["district"]]
    for level, n in SAMPLES.items():
        chosen = rng.sample(nodes[level], min(n, len(nodes[level])))
        timings[level] = [_time_get(client, f"{url}?area={pk}") for pk in chosen]
    every: list[float] = []
    for level in LEVELS:
        if timings.get(level):
            every.extend(timings[level])
            results.add(
                "dashboards as city staff",
                f"{level} page from its snapshot (n={len(timings[level])})",
                Latency.of(timings[level]).text(),
            )
    overall = Latency.of(every)
    results.add(
        "dashboards as city staff",
        f"every page (n={overall.n})",
        overall.text(),
        f"target p95 < {TARGET_P95_MS} ms",
    )

    # The same city page computed live for the request (?live=1): what the snapshots spare.
    print("dashboards: the city page computed live (twice) …", flush=True)
    live = [_time_get(client, f"{url}?live=1") for _ in range(2)]
    results.add(
        "dashboards as city staff",
        "reference: city page computed live (cold, warm)",
        f"{secs(live[0])}, {secs(live[1])}",
    )
    results.add(
        "dashboards as city staff",
        "ratio live city page / snapshot city page (p50)",
        ratio(min(live) * 1000, Latency.of(timings["city"]).p50),
    )
    area = dashboard.area_for(user)
    assert area is not None
    results.add(
        "dashboards as city staff",
        "data behind the city page",
        f"{len(area.communities):,} communities",
    )
