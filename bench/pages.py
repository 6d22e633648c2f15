"""Pages and API under load: the key pages and API calls of each role, as 20 signed-in users
open them, under the production configuration; against a minimal reference page of the same
server in the same run; and the web workers' peak memory after it.

The server is the survey benchmark's (`bench.surveys.Server`: granian, production
settings, Redis cache), with the reference page mounted (`SANLIAN_BENCH_REFERENCE_PAGE=1`).
The generator is the same kind too (processes × threads, `surveys.Wire` with keep-alive, no
Django in the children): each thread is one user of one role who signs in through the login
form (GET for the CSRF token, POST), then, for `seconds` seconds and without think time, opens
a page or API call drawn from its role's weighted mix. The mix is drawn beforehand from what
that user can see in the bench database (its communities, projects, cases, real pinyin
initials of its people), so every request should answer 200: anything else is an error.
*Reference*: the same users, same generator and same server on `/bench/reference/`, which
goes through the same middleware, login and base template and runs one primary-key query; the
ratio is our throughput as a share of the reference's.

Two loads, because they answer two questions. *Saturation* (no think time: each user sends
its next request as soon as the last one answered) measures throughput, the figure the
reference ratio compares; its latency is mostly queueing (mean ≈ users / throughput).
*Paced users* (the same 20 users, each pausing 1–3 s between requests, as people reading a
page do, and as load tools' users do by default) measure the latency people see at 20
concurrent users, per page kind: that is the p95 target's figure.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from statistics import fmean
from typing import Any
from urllib.parse import urlencode, urlsplit

from . import surveys
from .common import CACHE, Latency, Results, data_dir, ms, run_child, sanlian

TARGET_P95_MS = 200
TARGET_SHARE = 0.5
TARGET_WORKER_MB = 300
# The 20 users by role (username of the demo account, how many users sign in with it):
# community cadres are the most numerous, then area staff; the administrators need TOTP.
USERS = (("cadre", 6), ("city", 4), ("district", 4), ("worker", 3), ("orgmanager", 3))
REFERENCE_PATH = "/bench/reference/"
SURVEY_TITLE = "BENCH 需求调查（页面）"
SURVEY_RESPONSES = 2_000
CSRF_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
SHOWN_ERRORS = 8


@dataclass(frozen=True)
class Kind:
    """A kind of page (or API call) in a role's mix: its share and the paths drawn for it."""

    name: str
    weight: float
    paths: tuple[str, ...]


@dataclass(frozen=True)
class VirtualUser:
    username: str
    password: str
    address: str  # X-Forwarded-For: the generator plays the reverse proxy
    seed: int
    kinds: tuple[Kind, ...]


# ---- the mix, drawn from what each user can see ------------------------------------------------


def _sample(rng: random.Random, items: list[Any], n: int) -> list[Any]:
    return rng.sample(items, min(n, len(items)))


def _dashboards(user: Any, rng: random.Random) -> tuple[str, ...]:
    """The user's own area (three times: the page people open first), then a few districts,
    streets and communities below it."""
    from django.urls import reverse

    from sanlian.organizations.models import Organization, OrgKind

    own = reverse("insights:dashboard")
    paths = [own, own, own]
    areas = Organization.objects.visible_to(user).areas().active()
    for kind in (OrgKind.DISTRICT_UNION, OrgKind.STREET_UNION, OrgKind.COMMUNITY_UNION):
        pks = list(
            areas.filter(kind=kind)
            .exclude(pk=user.organization_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        paths += [f"{own}?area={pk}" for pk in _sample(rng, pks, 3)]
    return tuple(paths)


def _pages(name: str, pks: list[int], rng: random.Random, n: int = 10) -> tuple[str, ...]:
    """The detail page `name` of up to `n` of `pks`, drawn at random."""
    from django.urls import reverse

    return tuple(reverse(name, args=[pk]) for pk in _sample(rng, pks, n))


def _initials(user: Any, rng: random.Random, n: int = 40) -> list[str]:
    """2–3 letter pinyin initials of real names the user can see (as bench/search.py draws)."""
    from sanlian.organizations.models import Person

    from .search import _tokens

    pks = list(Person.objects.visible_to(user).active().order_by("pk").values_list("pk", flat=True))
    people = Person.objects.filter(pk__in=_sample(rng, pks, n)).order_by("pk")
    return [_tokens(p.search_text, p.name)[1][: rng.choice((2, 3))] for p in people]


def survey_for_results(city: Any, cadre: Any) -> Any:
    """A survey both the city staff and the cadre may open: a real one of typical size (the
    median response count among the cadre's surveys that have responses; the bench's own
    surveys left out), else one built and filled here once (reused by later runs)."""
    from django.db.models import Count

    from sanlian.delivery.models import Survey
    from sanlian.organizations.models import Community

    real = list(
        Survey.objects.visible_to(cadre)
        .exclude(title__startswith="BENCH")
        .annotate(n=Count("responses"))
        .filter(n__gt=0)
        .order_by("n", "pk")
    )
    if real:
        return real[len(real) // 2]
    built = Survey.objects.filter(title=SURVEY_TITLE).order_by("-pk").first()
    if built is not None and built.responses.count() == SURVEY_RESPONSES:
        return built
    surveys._drop(SURVEY_TITLE)
    own = list(Community.objects.visible_to(cadre).active().order_by("pk")[:1])
    others = list(Community.objects.active().exclude(pk__in=[c.pk for c in own]).order_by("pk")[:2])
    built = surveys._build(SURVEY_TITLE, own + others, city)
    surveys._fill(built, SURVEY_RESPONSES)
    return built


def mix(username: str, rng: random.Random, survey_path: str) -> tuple[Kind, ...]:
    """The weighted page kinds of one demo account; kinds with nothing to open are left out."""
    from django.urls import reverse

    from sanlian.core.models import User
    from sanlian.delivery.models import Case
    from sanlian.organizations.models import Community
    from sanlian.resources.models import ServiceProject

    user = User.objects.select_related("organization").get(username=username)
    projects = list(
        ServiceProject.objects.visible_to(user).order_by("pk").values_list("pk", flat=True)
    )
    communities = list(
        Community.objects.visible_to(user).active().order_by("pk").values_list("pk", flat=True)
    )
    home = (reverse("home"),)
    board = (reverse("resources:project_board"),)
    kinds: list[Kind]
    match username:
        case "city":
            kinds = [
                Kind("home", 3, home),
                Kind("dashboards", 3, _dashboards(user, rng)),
                Kind("project list", 2, board),
                Kind("project page", 2, _pages("resources:project_detail", projects, rng)),
                Kind("fairness", 1, (reverse("insights:fairness"),)),
                Kind("survey results", 1, (survey_path,)),
                Kind(
                    "API",
                    1,
                    ("/api/me", "/api/insights/dashboard", "/api/projects", "/api/communities"),
                ),
            ]
        case "district":
            dashboards = _dashboards(user, rng)
            below = [f"/api/insights/dashboard?{p.partition('?')[2]}" for p in dashboards[3:]]
            kinds = [
                Kind("home", 3, home),
                Kind("dashboards", 3, dashboards),
                Kind("project list", 2, board),
                Kind("project page", 1, _pages("resources:project_detail", projects, rng)),
                Kind("community list", 1, (reverse("organizations:community_list"),)),
                Kind(
                    "community profile",
                    2,
                    _pages("organizations:community_detail", communities, rng),
                ),
                Kind(
                    "API",
                    1,
                    ("/api/communities", "/api/projects", "/api/insights/dashboard", *below[:3]),
                ),
            ]
        case "cadre":
            initials = _initials(user, rng)
            search = reverse("organizations:search")
            people = reverse("organizations:person_list")
            kinds = [
                Kind("home", 3, home),
                Kind(
                    "community profile",
                    2,
                    _pages("organizations:community_detail", communities, rng),
                ),
                Kind(
                    "person search (pinyin initials)",
                    3,
                    tuple(f"{search}?{urlencode({'q': q})}" for q in initials),
                ),
                Kind("person list", 2, (people, f"{people}?page=2")),
                Kind("survey results", 1, (survey_path,)),
                Kind(
                    "API",
                    1,
                    (
                        *(f"/api/search?{urlencode({'q': q})}" for q in initials[:10]),
                        *(f"/api/people?community_id={pk}" for pk in communities[:3]),
                    ),
                ),
            ]
        case "worker":
            cases = list(
                Case.objects.visible_to(user)
                .held_by(user)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            kinds = [
                Kind("home", 2, home),
                Kind("case list", 3, (reverse("delivery:case_list"),)),
                Kind("case page", 3, _pages("delivery:case_detail", cases, rng)),
                Kind("API", 1, ("/api/cases", "/api/me")),
            ]
        case "orgmanager":
            kinds = [
                Kind("home", 2, home),
                Kind("project list", 3, board),
                Kind("project page", 2, _pages("resources:project_detail", projects, rng)),
                Kind("applications", 1, (reverse("resources:application_list"),)),
                Kind("API", 1, ("/api/projects", "/api/applications")),
            ]
        case _:
            raise ValueError(f"no mix for {username!r}")
    return tuple(k for k in kinds if k.paths)


def refresh_snapshots(paths: list[str], seconds: float) -> tuple[int, float]:
    """The dashboards' background snapshots of the areas in the mix, recomputed when missing
    or about to go stale during the run: in production Celery beat keeps them fresh, and a
    stale one would make every page enqueue a refresh (no worker runs here)."""
    from django.conf import settings
    from django.utils import timezone

    from sanlian.core.models import User
    from sanlian.insights.models import DashboardSnapshot
    from sanlian.insights.services import snapshots

    ids = {int(p.rsplit("=", 1)[1]) for p in paths if "area=" in p}
    ids |= set(
        User.objects.filter(username__in=[u for u, _ in USERS])
        .exclude(organization=None)
        .values_list("organization_id", flat=True)
    )
    margin = timedelta(minutes=settings.DASHBOARD_REFRESH_MINUTES) - timedelta(
        seconds=seconds + 300
    )
    fresh = set(
        DashboardSnapshot.objects.filter(
            area_id__in=ids,
            version=snapshots.VERSION,
            computed_at__gte=timezone.now() - margin,
        ).values_list("area_id", flat=True)
    )
    todo = [
        node.pk
        for node in snapshots.areas_to_refresh(ids - fresh)  # area nodes only
    ]
    t0 = time.perf_counter()
    if todo:
        snapshots.refresh(todo)
    return len(todo), time.perf_counter() - t0


# ---- the load generator (plain Python, no Django: it runs in child processes) -----------------


class Browser:
    """One user's connection and cookies, as a browser behind the reverse proxy sends them."""

    def __init__(self, port: int, address: str) -> None:
        self.origin = f"https://127.0.0.1:{port}"
        self.base = {"X-Forwarded-For": address, "X-Forwarded-Proto": "https"}
        self.jar: dict[str, str] = {}
        self.conn = surveys.Wire(port, timeout=60)

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes, str]:
        """(status, body, Location); status 0 when the connection failed."""
        headers = dict(self.base)
        if self.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        if body is not None:
            headers |= {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": self.origin,
                "Referer": self.origin + path,
            }
        try:
            status, pairs, data = self.conn.request(
                method, path, headers, b"" if body is None else body.encode()
            )
        except (OSError, ValueError, IndexError):
            self.conn.close()
            return 0, b"", ""
        surveys.keep_cookies(pairs, self.jar)
        location = next((raw.decode() for name, raw in pairs if name == b"location"), "")
        return status, data, location

    def login(self, username: str, password: str) -> bool:
        status, page, _ = self.request("GET", "/accounts/login/")
        token = CSRF_RE.search(page)
        if status != 200 or token is None:
            return False
        form = {
            "csrfmiddlewaretoken": token[1].decode(),
            "username": username,
            "password": password,
        }
        status, _, location = self.request("POST", "/accounts/login/", urlencode(form))
        return status == 302 and urlsplit(location).path == "/"

    def close(self) -> None:
        self.conn.close()


@dataclass
class Tally:
    """One generator process's figures: seconds by phase and kind, errors, phase lengths."""

    seconds: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    errors: dict[str, dict[str, int]] = field(default_factory=dict)
    shown: list[tuple[str, str, int]] = field(default_factory=list)  # (who, path, status)
    logins: list[float] = field(default_factory=list)
    failed_logins: list[str] = field(default_factory=list)
    elapsed: dict[str, float] = field(default_factory=dict)

    def record(self, phase: str, key: str, seconds: float) -> None:
        self.seconds.setdefault(phase, {}).setdefault(key, []).append(seconds)

    def error(self, phase: str, key: str, shown: tuple[str, str, int]) -> None:
        counts = self.errors.setdefault(phase, {})
        counts[key] = counts.get(key, 0) + 1
        if len(self.shown) < SHOWN_ERRORS:
            self.shown.append(shown)

    def add(self, other: Tally) -> None:
        """Merge another tally in (a phase lasted as long as its longest part)."""
        for phase, by_key in other.seconds.items():
            for key, values in by_key.items():
                self.seconds.setdefault(phase, {}).setdefault(key, []).extend(values)
        for phase, counts in other.errors.items():
            mine = self.errors.setdefault(phase, {})
            for key, n in counts.items():
                mine[key] = mine.get(key, 0) + n
        self.shown += other.shown[: max(0, SHOWN_ERRORS - len(self.shown))]
        self.logins += other.logins
        self.failed_logins += other.failed_logins
        for phase, seconds in other.elapsed.items():
            self.elapsed[phase] = max(self.elapsed.get(phase, 0.0), seconds)


# (name, seconds, on the reference page rather than the mix, think time (min, max) or None)
Phase = tuple[str, float, bool, tuple[float, float] | None]
THINK = (1.0, 3.0)


def _user(
    port: int,
    user: VirtualUser,
    phases: list[Phase],
    barrier: threading.Barrier,
    tally: Tally,
    lock: threading.Lock,
) -> None:
    rng = random.Random(user.seed)
    browser = Browser(port, user.address)
    t0 = time.perf_counter()
    signed_in = browser.login(user.username, user.password)
    login_seconds = time.perf_counter() - t0
    weights = [k.weight for k in user.kinds]
    reference = Kind("reference", 1, (REFERENCE_PATH,))
    mine = Tally()
    if signed_in:
        mine.logins.append(login_seconds)
    else:
        mine.failed_logins.append(user.username)
    for phase, seconds, on_reference, think in phases:
        barrier.wait()
        until = time.monotonic() + seconds
        while signed_in and time.monotonic() < until:
            kind = reference if on_reference else rng.choices(user.kinds, weights)[0]
            path = rng.choice(kind.paths)
            key = f"{user.username}|{kind.name}"
            started = time.perf_counter()
            status, _, _ = browser.request("GET", path)
            took = time.perf_counter() - started
            if status == 200:
                mine.record(phase, key, took)
            else:
                mine.error(phase, key, (user.username, path, status))
            if think is not None:
                time.sleep(max(0.0, min(rng.uniform(*think), until - time.monotonic())))
    barrier.wait()
    browser.close()
    with lock:
        tally.add(mine)


def generate(port: int, users: list[VirtualUser], phases: list[Phase]) -> Tally:
    """One generator process: a thread per user, all starting each phase together."""
    tally, lock = Tally(), threading.Lock()
    marks: list[float] = []
    barrier = threading.Barrier(len(users), action=lambda: marks.append(time.perf_counter()))
    threads = [
        threading.Thread(target=_user, args=(port, u, phases, barrier, tally, lock)) for u in users
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tally.elapsed = {name: marks[i + 1] - marks[i] for i, (name, *_rest) in enumerate(phases)}
    return tally


def load(port: int, users: list[VirtualUser], phases: list[Phase], processes: int) -> Tally:
    """The users dealt out over `processes` generator processes (each gets a share of every
    role); their tallies merged (the rates add up: each ran its phases for the same time)."""
    from django.db import connections

    connections.close_all()  # no database socket shared with the forked children
    with ProcessPoolExecutor(processes) as pool:
        futures = [
            pool.submit(generate, port, users[p::processes], phases) for p in range(processes)
        ]
        tallies = [f.result() for f in futures]
    total = Tally()
    for part in tallies:
        total.add(part)
    return total


# ---- the step ----------------------------------------------------------------------------------


def collect_static(url: str) -> bool:
    """`sanlian collectstatic` for the production server, unless the collected files are
    newer than every source file. The files do not depend on the database, so every bench
    database's static directory is a link to one shared copy: compressing them takes about a
    minute on 2 cores, once rather than at every run. True when it ran."""
    from django.contrib.staticfiles import finders

    root = data_dir(url) / "static"
    if not root.exists() and not root.is_symlink():
        (CACHE / "static").mkdir(parents=True, exist_ok=True)
        root.symlink_to(CACHE / "static", target_is_directory=True)
    manifest = root / "staticfiles.json"
    newest = max(
        (
            os.path.getmtime(storage.path(path))
            for finder in finders.get_finders()
            for path, storage in finder.list([])
        ),
        default=0.0,
    )
    if manifest.exists() and manifest.stat().st_mtime >= newest:
        return False
    collect = run_child(sanlian("collectstatic", "--noinput", "-v0"), production_env(url))
    if collect.returncode:
        raise SystemExit(f"collectstatic failed:\n{collect.stderr[-3000:]}")
    return True


class Server(surveys.Server):
    """The survey benchmark's server, with the reference page mounted."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.env = production_env(url)


def production_env(url: str) -> dict[str, str]:
    env = surveys.production_env(url)
    env["SANLIAN_BENCH_REFERENCE_PAGE"] = "1"
    return env


def _users(password: str) -> list[VirtualUser]:
    from django.urls import reverse

    from sanlian.core.models import User

    rng = random.Random(7)
    survey = survey_for_results(
        User.objects.get(username="city"), User.objects.get(username="cadre")
    )
    survey_path = reverse("delivery:survey_results", args=[survey.pk])
    mixes = {username: mix(username, rng, survey_path) for username, _ in USERS}
    roles = [username for username, count in USERS for _ in range(count)]
    return [
        VirtualUser(name, password, f"10.20.0.{n}", 1000 + n, mixes[name])
        for n, name in enumerate(roles, 1)
    ]


def _latency_note(values: list[float], errors: int, elapsed: float) -> str:
    note = f"{len(values) / elapsed:,.1f} req/s · {errors:,} errors"
    if values and Latency.of(values).p95 > TARGET_P95_MS:
        note += f" · p95 over {TARGET_P95_MS} ms"
    return note


def run(results: Results, *, url: str, seconds: float = 60) -> None:
    from sanlian.organizations.demo import DEMO_PASSWORD

    t0 = time.perf_counter()
    if collect_static(url):
        print(f"pages: collectstatic ({time.perf_counter() - t0:.0f} s)", flush=True)
    users = _users(DEMO_PASSWORD)
    all_paths = [p for u in users for k in u.kinds for p in k.paths]
    refreshed, took = refresh_snapshots(all_paths, seconds)
    if refreshed:
        print(f"pages: {refreshed} dashboard snapshot(s) refreshed ({took:.1f} s)", flush=True)
    warm = min(5.0, max(2.0, seconds / 10))
    ref_seconds = min(seconds, max(5.0, seconds / 3))
    phases: list[Phase] = [
        ("warm-up", warm, False, None),
        ("pages", seconds, False, None),
        ("reference", ref_seconds, True, None),
        ("paced", seconds, False, THINK),
    ]
    processes = max(1, len(os.sched_getaffinity(0)) // 2)
    print(
        f"pages: {surveys.server_shape()}, production settings, "
        f"{len(users)} users in {processes} generator process(es): warm-up {warm:.0f} s, "
        f"the mix {seconds:.0f} s, the reference page {ref_seconds:.0f} s, paced users"
        f" {seconds:.0f} s …",
        flush=True,
    )
    with Server(url) as server:
        assert server.proc is not None
        idle = surveys.settled_memory_mb(server.proc.pid, surveys._workers())
        tally = load(server.port, users, phases, processes)
        peaks = surveys.worker_memory_mb(server.proc.pid, "VmHWM")
    report(results, tally, users, idle, peaks)


def report(
    results: Results,
    tally: Tally,
    users: list[VirtualUser],
    idle: list[float],
    peaks: list[float],
) -> None:
    bench = "pages"
    if tally.logins:
        results.add(
            bench,
            f"log in: GET form + POST (n={len(tally.logins)}, before the timed load)",
            Latency.of(tally.logins).text(),
            f"failed: {', '.join(tally.failed_logins)}" if tally.failed_logins else "",
        )
    if tally.failed_logins:
        print(f"pages: login FAILED for {', '.join(tally.failed_logins)}")
    # Per page kind: the paced users (the latency people see at 20 concurrent users).
    paced_elapsed = tally.elapsed["paced"]
    timed = tally.seconds.get("paced", {})
    errors = tally.errors.get("paced", {})
    order = {username: i for i, (username, _) in enumerate(USERS)}
    keys = sorted(
        {f"{u.username}|{k.name}" for u in users for k in u.kinds},
        key=lambda key: (order[key.split("|")[0]], key),
    )
    over: list[tuple[float, str]] = []
    for key in keys:
        username, kind = key.split("|")
        values, failed = timed.get(key, []), errors.get(key, 0)
        if not values:
            results.add(f"pages as {username}", kind, "no answer", f"{failed:,} errors")
            continue
        lat = Latency.of(values)
        if lat.p95 > TARGET_P95_MS:
            over.append((lat.p95, f"{username} {kind}"))
        results.add(
            f"pages as {username}",
            f"{kind} (n={len(values):,}, paced)",
            lat.text(),
            _latency_note(values, failed, paced_elapsed),
        )
    paced = [s for values in timed.values() for s in values]
    failed_total = sum(errors.values())
    if paced:
        results.add(
            bench,
            f"paced users: all pages and API calls (n={len(paced):,}, {len(users)} users,"
            f" think {THINK[0]:.0f}–{THINK[1]:.0f} s, {paced_elapsed:.0f} s)",
            Latency.of(paced).text(),
            f"{len(paced) / paced_elapsed:,.1f} req/s; target p95 < {TARGET_P95_MS} ms",
        )
    results.add(
        bench,
        f"paced users: page kinds with p95 over {TARGET_P95_MS} ms",
        f"{len(over)} of {len(keys)}",
        ("worst: " + "; ".join(f"{name} {ms(p95)}" for p95, name in sorted(over)[::-1][:3]))
        if over
        else "",
    )
    # Saturation: throughput, against the reference page under the same load.
    elapsed = tally.elapsed["pages"]
    every = [s for values in tally.seconds.get("pages", {}).values() for s in values]
    failed_total += sum(tally.errors.get("pages", {}).values())
    if every:
        rate = len(every) / elapsed
        results.add(
            bench,
            f"saturation: all pages and API calls (n={len(every):,}, {len(users)} users,"
            f" no think time, {elapsed:.0f} s)",
            Latency.of(every).text(),
            f"{rate:,.1f} req/s (latency is mostly queueing: mean ≈ {len(users)} / throughput"
            f" = {ms(len(users) / rate * 1000)})",
        )
    # A user who could not sign in sent nothing more: one error, not silence.
    failed_total += len(tally.failed_logins)
    results.add(
        bench,
        "errors (any status but 200)",
        f"{failed_total:,} of {len(every) + len(paced) + failed_total:,}",
        "target 0"
        + (f"; {len(tally.failed_logins)} failed sign-in(s)" if tally.failed_logins else ""),
    )
    ref = [s for values in tally.seconds.get("reference", {}).values() for s in values]
    ref_errors = sum(tally.errors.get("reference", {}).values())
    if ref and every:
        ref_rate = len(ref) / tally.elapsed["reference"]
        results.add(
            bench,
            f"reference: GET {REFERENCE_PATH} (n={len(ref):,}, same users, "
            f"{tally.elapsed['reference']:.0f} s)",
            Latency.of(ref).text(),
            f"{ref_rate:,.1f} req/s · {ref_errors:,} errors",
        )
        results.add(
            bench,
            "throughput as a share of the reference",
            f"{rate / ref_rate:.0%}",
            f"target ≥ {TARGET_SHARE:.0%}",
        )
    if peaks:
        results.add(
            bench,
            f"web worker peak memory (VmHWM) after the load, max · mean of {len(peaks)}",
            f"{max(peaks):.0f} MB · {fmean(peaks):.0f} MB",
            f"target < {TARGET_WORKER_MB} MB"
            + (f"; booted, before the load (VmRSS): max {max(idle):.0f} MB" if idle else ""),
        )
    shown = tally.shown[:SHOWN_ERRORS]
    if shown:
        print(f"pages: first {len(shown)} error(s):")
        for username, path, status in shown:
            print(f"  {username} GET {path} → {status or 'connection failed'}")
