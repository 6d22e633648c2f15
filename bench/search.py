"""Search as the page runs it: `organizations.queries.search(user, q)` for a realistic mix
of queries drawn from the data, against indexed primary-key fetches in the same run."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from .common import Latency, Results, ratio

USERS = (("city", "city staff"), ("cadre", "community cadre"))
# Share of each kind of query in the mix (sums to 1).
MIX = {
    "pinyin initials": 0.20,
    "full pinyin": 0.15,
    "Chinese fragment": 0.20,
    "community initials": 0.10,
    "phone": 0.10,
    "ID number": 0.10,
    "miss": 0.15,
}
TARGET_P95_MS = 200
# Nobody in the demo data has these: compound surnames, a mobile prefix the generator never
# uses (130) and ID numbers of Beijing's 东城区 (110101).
MISS_SURNAMES = (("欧阳", "ouyang", "oy"), ("司马", "sima", "sm"), ("诸葛", "zhuge", "zg"))
MISS_GIVEN = (("雪", "xue"), ("峰", "feng"), ("婉清", "wanqing"), ("子涵", "zihan"))


def _tokens(search_text: str, name: str) -> tuple[str, str]:
    """The first full spelling and the first initials among a name's search keys."""
    tokens = search_text.split()[1:]
    initials = next((t for t in tokens if len(t) == len(name)), tokens[-1])
    return tokens[0], initials


def _misses(rng: random.Random, n: int) -> list[str]:
    from sanlian.core.validators import generate_resident_id

    out: list[str] = []
    for i in range(n):
        han, spelled, initials = rng.choice(MISS_SURNAMES)
        given_han, given_spelled = rng.choice(MISS_GIVEN)
        match i % 5:
            case 0:
                out.append(han + given_han)
            case 1:
                out.append(spelled + given_spelled)
            case 2:
                out.append(initials + given_spelled[0])
            case 3:
                out.append(f"130{rng.randrange(10**8):08d}")
            case _:
                born = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
                out.append(generate_resident_id("110101", born, rng.randrange(1000)))
    return out


def draw_queries(user: Any, n: int, seed: int) -> list[tuple[str, str]]:
    """(kind, query) pairs from what the user can see, deterministic for a seed."""
    from sanlian.organizations.models import Community, Person

    rng = random.Random(f"{seed}-{user.username}")
    counts = {kind: round(share * n) for kind, share in MIX.items()}
    counts["miss"] += n - sum(counts.values())
    pks = list(Person.objects.visible_to(user).active().order_by("pk").values_list("pk", flat=True))
    wanted = sum(
        counts[k]
        for k in ("pinyin initials", "full pinyin", "Chinese fragment", "phone", "ID number")
    )
    sample = [rng.choice(pks) for _ in range(wanted)]
    people = Person.objects.in_bulk(sample)
    persons = iter([people[pk] for pk in sample])
    communities = list(
        Community.objects.visible_to(user).order_by("pk").only("name", "search_text")
    )
    out: list[tuple[str, str]] = []
    for _ in range(counts["pinyin initials"]):
        p = next(persons)
        initials = _tokens(p.search_text, p.name)[1]
        out.append(("pinyin initials", initials[: rng.choice((2, 3))]))
    for _ in range(counts["full pinyin"]):
        p = next(persons)
        out.append(("full pinyin", _tokens(p.search_text, p.name)[0]))
    for _ in range(counts["Chinese fragment"]):
        p = next(persons)
        size = rng.randint(1, min(3, len(p.name)))
        start = rng.randrange(len(p.name) - size + 1)
        out.append(("Chinese fragment", p.name[start : start + size]))
    for _ in range(counts["community initials"]):
        c = rng.choice(communities)
        out.append(("community initials", _tokens(c.search_text, c.name)[1]))
    for _ in range(counts["phone"]):
        out.append(("phone", next(persons).phone))
    for _ in range(counts["ID number"]):
        out.append(("ID number", next(persons).id_number()))
    out += [("miss", q) for q in _misses(rng, counts["miss"])]
    rng.shuffle(out)
    return out


def measure(
    user: Any, queries: list[tuple[str, str]], ref_pks: list[int]
) -> tuple[dict[str, list[float]], list[float], int]:
    """Seconds per query by kind, seconds per reference fetch (interleaved, so both see the
    same machine), and the number of people found in all."""
    from sanlian.organizations.models import Person
    from sanlian.organizations.queries import search

    by_kind: dict[str, list[float]] = defaultdict(list)
    reference: list[float] = []
    found = 0
    for (kind, q), pk in zip(queries, ref_pks, strict=True):
        t0 = time.perf_counter()
        res = search(user, q)  # evaluates the first page of each result list, as the page does
        t1 = time.perf_counter()
        rows = list(Person.objects.filter(pk=pk))
        t2 = time.perf_counter()
        assert rows, pk
        by_kind[kind].append(t1 - t0)
        reference.append(t2 - t1)
        found += len(res.people)
    return by_kind, reference, found


def run(results: Results, *, queries: int = 300) -> None:
    from django.db import connection

    from sanlian.core.models import User
    from sanlian.organizations.models import Person

    with connection.cursor() as cur:
        cur.execute("ANALYZE")  # planner statistics, as any database in use has them
    total = Person.objects.count()
    for username, label in USERS:
        user = User.objects.get(username=username)
        visible = Person.objects.visible_to(user).active().count()
        print(f"search as {username} ({visible:,} of {total:,} people visible) …", flush=True)
        mix = draw_queries(user, queries, seed=1)
        warm = draw_queries(user, max(30, queries // 5), seed=2)
        rng = random.Random(f"ref-{username}")
        pk_pool = list(
            Person.objects.order_by("pk").values_list("pk", flat=True)[:: max(1, total // 5000)]
        )
        measure(user, warm, [rng.choice(pk_pool) for _ in warm])  # warm-up, not counted
        by_kind, reference, found = measure(user, mix, [rng.choice(pk_pool) for _ in mix])
        bench = f"search as {username}"
        for kind in MIX:
            if by_kind.get(kind):
                results.add(
                    bench, f"{kind} (n={len(by_kind[kind])})", Latency.of(by_kind[kind]).text()
                )
        everything = [s for values in by_kind.values() for s in values]
        overall = Latency.of(everything)
        ref = Latency.of(reference)
        results.add(
            bench,
            f"all queries (n={overall.n})",
            overall.text(),
            f"target p95 < {TARGET_P95_MS} ms; {label}, {visible:,} people visible, {found:,} found",
        )
        results.add(bench, f"reference: pk fetch (n={ref.n})", ref.text())
        results.add(bench, "ratio p95 search / p95 reference", ratio(overall.p95, ref.p95))
