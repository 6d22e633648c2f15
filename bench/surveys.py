"""Needs surveys: answers per second through the public page and its submission endpoint, as
residents send them, under the production configuration; and the results page at 100,000
responses.

Throughput. The app runs under granian (the production web server) with the production settings (SANLIAN_ENV=production,
DEBUG off, static files collected, Redis cache at redis://127.0.0.1:6379/1, one reverse proxy
assumed: the generator plays it, sending X-Forwarded-For and X-Forwarded-Proto). A load
generator (processes × threads, a minimal HTTP/1.1 client with keep-alive) plays phones: each answer is a
GET of the page (its device cookie and one-time form number) and a POST of a
valid, random answer sheet from its own address, for `seconds` seconds. Figures: answers/s
accepted, latency of an answer (GET + POST), and stored == accepted (nothing lost, nothing
twice). *Reference*: the same server and generator on `/healthz` (the cheapest request), so
the ratio says how many cheapest requests an answer costs.

Results page. A second survey (reused across runs) gets 100,000 responses written with COPY;
the page is rendered in-process (Django test client, logged in as the city staff user) and
timed. *Reference*: the same page of a survey with the same questions and no responses.
"""

from __future__ import annotations

import os
import random
import re
import resource
import signal
import socket
import statistics
import subprocess
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from .common import BIN, ROOT, Latency, Results, bench_env, data_dir, ms, ratio, run_child, sanlian

TARGET_ANSWERS_PER_S = 300
TARGET_RESULTS_S = 1.0
REDIS_CACHE = "redis://127.0.0.1:6379/1"
BENCH_TITLE = "BENCH 需求调查（吞吐）"
BIG_TITLE = "BENCH 需求调查（十万份）"
EMPTY_TITLE = "BENCH 需求调查（空）"
NEEDS = ("四点半课堂", "居家养老", "法律援助", "就业技能", "健康服务", "家庭关系", "物业纠纷")
NONCE_RE = re.compile(rb'name="nonce" value="([^"]+)"')


# ---- the surveys -------------------------------------------------------------------------------


def _build(title: str, communities: list[Any], by: Any) -> Any:
    """A published survey with a need question, a multiple choice, a Likert scale, a number
    and a short text (eight answer rows per response on average)."""
    from django.utils import timezone

    from sanlian.delivery.services import surveys as services

    now = timezone.now()
    survey = services.survey_create(
        by=by,
        title=title,
        communities=communities,
        opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(days=30),
    )
    add = services.question_add
    add(survey=survey, by=by, kind="single", text="您家最需要哪项服务？", options=NEEDS,
        is_need_question=True)  # fmt: skip
    add(survey=survey, by=by, kind="multiple", text="还需要哪些服务？", options=NEEDS,
        required=False, is_need_question=True)  # fmt: skip
    add(survey=survey, by=by, kind="likert", text="您对社区服务满意吗？")
    add(survey=survey, by=by, kind="number", text="家庭人口", required=False)
    add(survey=survey, by=by, kind="short_text", text="您的建议", required=False)
    return services.survey_publish(survey=survey, by=by)


def _structure(survey: Any) -> list[tuple[str, str, list[int]]]:
    from sanlian.delivery.services.surveys import survey_shape

    return [(q.name, q.kind, [o.id for o in q.options]) for q in survey_shape(survey).questions]


def _drop(title: str) -> None:
    """Removes the surveys of an earlier run with this title (plain SQL: hundreds of thousands
    of rows would take minutes through the ORM's cascade)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT id FROM delivery_survey WHERE title = %s", [title])
        ids = [row[0] for row in cur.fetchall()]
        if not ids:
            return
        for sql in (
            "DELETE FROM delivery_answer WHERE survey_id = ANY(%s)",
            "DELETE FROM delivery_surveyresponse WHERE survey_id = ANY(%s)",
            "DELETE FROM delivery_callneedlink WHERE option_id IN (SELECT o.id FROM"
            " delivery_questionoption o JOIN delivery_question q ON q.id = o.question_id"
            " WHERE q.survey_id = ANY(%s))",
            "UPDATE delivery_question SET show_if_option_id = NULL WHERE survey_id = ANY(%s)",
            "DELETE FROM delivery_questionoption WHERE question_id IN"
            " (SELECT id FROM delivery_question WHERE survey_id = ANY(%s))",
            "DELETE FROM delivery_question WHERE survey_id = ANY(%s)",
            "DELETE FROM delivery_survey_communities WHERE survey_id = ANY(%s)",
            "DELETE FROM delivery_survey WHERE id = ANY(%s)",
        ):
            cur.execute(sql, [ids])


# ---- processes, read from /proc -----------------------------------------------------------------


def processes() -> dict[int, tuple[int, str, float]]:
    """Every process: pid -> (parent pid, name, CPU seconds used so far), from /proc/<pid>/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[int, str, float]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.find("(") + 1 : text.rfind(")")]
        fields = text.rsplit(")", 1)[1].split()
        found[int(stat.parent.name)] = (
            int(fields[1]),
            name,
            (int(fields[11]) + int(fields[12])) / tick,
        )
    return found


def worker_memory_mb(master: int, field: str = "VmHWM") -> list[float]:
    """`field` of /proc/<pid>/status (VmHWM: peak resident memory; VmRSS: now) of each child
    of the web server's master process, in MB."""
    children = Path(f"/proc/{master}/task/{master}/children")
    if children.exists():
        pids = [int(p) for p in children.read_text().split()]
    else:  # kernels without CONFIG_PROC_CHILDREN: scan for the master's children
        pids = [pid for pid, (parent, _name, _cpu) in processes().items() if parent == master]
    values = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith(f"{field}:"):
                values.append(int(line.split()[1]) / 1024)
    return values


def settled_memory_mb(master: int, workers: int, timeout: float = 30) -> list[float]:
    """Each worker's resident memory once all have booted (the app imported) and stopped
    growing: what a worker weighs before it has served anything but a health check."""
    deadline = time.monotonic() + timeout
    before: list[float] = []
    while time.monotonic() < deadline:
        now = worker_memory_mb(master, "VmRSS")
        steady = len(now) == workers == len(before) and all(
            abs(a - b) < 1 for a, b in zip(sorted(now), sorted(before), strict=True)
        )
        if steady:
            return now
        before = now
        time.sleep(0.5)
    return before


@dataclass
class Cpu:
    """CPU seconds used so far by the web server (master and workers), by every PostgreSQL
    process and by this process's finished children (the load generators). On a shared
    machine whose speed drifts, CPU per answer and its split are steadier than answers/s."""

    server: float
    postgres: float
    generator: float

    @classmethod
    def now(cls, server_pid: int) -> Cpu:
        used = processes()
        tree, grown = {server_pid}, True
        while grown:  # the server's processes: its pid and its descendants'
            more = {pid for pid, (parent, _n, _s) in used.items() if parent in tree} - tree
            tree |= more
            grown = bool(more)
        server = sum(used[pid][2] for pid in tree if pid in used)
        postgres = sum(sec for _parent, name, sec in used.values() if name.startswith("postgres"))
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(server, postgres, children.ru_utime + children.ru_stime)

    def per(self, before: Cpu, n: int) -> str:
        if not n:
            return "-"
        return (
            " · ".join(
                f"{(getattr(self, k) - getattr(before, k)) / n * 1000:.2f}"
                for k in ("server", "postgres", "generator")
            )
            + " ms"
        )


# ---- the server --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def production_env(url: str) -> dict[str, str]:
    env = bench_env(url)
    env.update(
        SANLIAN_ENV="production",
        SANLIAN_SECRET_KEY="bench-" + "k" * 50,
        SANLIAN_DEBUG="0",
        SANLIAN_ALLOWED_HOSTS="127.0.0.1",
        SANLIAN_SSL_REDIRECT="0",
        SANLIAN_PROXY_COUNT="1",
        SANLIAN_LOG_LEVEL="WARNING",
        REDIS_URL=REDIS_CACHE,
    )
    return env


def _workers() -> int:
    return int(os.environ.get("SANLIAN_BENCH_WORKERS") or len(os.sched_getaffinity(0)))


def _threads() -> int:
    return int(os.environ.get("SANLIAN_BENCH_THREADS") or 4)


def server_shape() -> str:
    return f"granian WSGI {_workers()} workers × {_threads()} threads"


class Server:
    """granian on a free port, as the README runs it in production; stopped on exit."""

    def __init__(self, url: str) -> None:
        self.port = _free_port()
        self.env = production_env(url)
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        cmd = [
            str(BIN / "granian"),
            "--interface", "wsgi",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--workers", str(_workers()),
            "--blocking-threads", str(_threads()),
            "--no-ws",
            "--log-level", "warning",
            "sanlian.config.wsgi:application",
        ]  # fmt: skip
        log = open(data_dir(self.env["DATABASE_URL"]) / "server.log", "wb")
        self.proc = subprocess.Popen(cmd, env=self.env, cwd=ROOT, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        probe = Wire(self.port, timeout=2)
        while time.monotonic() < deadline:
            try:
                if probe.request("GET", "/healthz", {})[0] == 200:
                    break
            except OSError:
                probe.close()
            time.sleep(0.3)
        else:
            raise SystemExit(f"the web server did not start; see {log.name}")
        probe.close()
        # Each worker imports the app and warms up (sanlian.config.startup) before it takes a
        # connection; wait until all have, so that none boots inside the timed load.
        settled_memory_mb(self.proc.pid, _workers(), timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# ---- the load generator (plain Python, no Django: it runs in child processes) -----------------


@dataclass
class Tally:
    accepted: int = 0
    refused: int = 0
    errors: int = 0
    seconds: list[float] | None = None


class Wire:
    """HTTP/1.1 over one kept-alive socket, as little as a client can do: the generator runs
    on the 2 cores it measures, and http.client (headers parsed through email.parser) took
    about 1.1 ms of CPU per answer, a fifth of the server's. Content-Length and chunked
    bodies; the connection is opened again when the server closes it."""

    def __init__(self, port: int, timeout: float = 30) -> None:
        self.port = port
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buf = b""

    def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buf = b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        status_line, *header_lines = head.split(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        pairs = []
        for line in header_lines:
            name, _, value = line.partition(b":")
            pairs.append((name.strip().lower(), value.strip()))
        found = dict(pairs)
        if b"chunked" in found.get(b"transfer-encoding", b""):
            content = self._chunked()
        else:
            size = int(found.get(b"content-length", b"0"))
            while len(self.buf) < size:
                self._fill()
            content, self.buf = self.buf[:size], self.buf[size:]
        if found.get(b"connection", b"").lower() == b"close":
            self.close()
        return status, pairs, content

    def _fill(self) -> None:
        assert self.sock is not None
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buf += data

    def _chunked(self) -> bytes:
        parts = []
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            line, _, self.buf = self.buf.partition(b"\r\n")
            size = int(line.split(b";", 1)[0], 16)
            if size == 0:  # no trailers are sent: the last chunk ends with an empty line
                while b"\r\n" not in self.buf:
                    self._fill()
                self.buf = self.buf.partition(b"\r\n")[2]
                return b"".join(parts)
            while len(self.buf) < size + 2:
                self._fill()
            parts.append(self.buf[:size])
            self.buf = self.buf[size + 2 :]

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None


def keep_cookies(headers: list[tuple[bytes, bytes]], jar: dict[str, str]) -> None:
    """The response's Set-Cookie headers into `jar`; an emptied cookie is dropped."""
    for name, raw in headers:
        if name == b"set-cookie":
            cookie, _, rest = raw.decode().partition("=")
            value = rest.split(";", 1)[0]
            if value and value != '""':
                jar[cookie.strip()] = value
            else:
                jar.pop(cookie.strip(), None)


def _sheet(
    rng: random.Random, structure: list[tuple[str, str, list[int]]]
) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for name, kind, options in structure:
        if kind == "single":
            out.append((name, rng.choice(options)))
        elif kind == "multiple":
            out += [(name, o) for o in rng.sample(options, rng.randint(0, 3))]
        elif kind == "likert":
            out.append((name, rng.randint(1, 5)))
        elif kind == "number":
            out.append((name, rng.randint(1, 6)))
        else:
            out.append((name, rng.choice(("", "希望多办健康讲座", "停车难", "加装电梯"))))
    return out


def _phone(
    port: int,
    path: str,
    structure: list[tuple[str, str, list[int]]],
    communities: list[int],
    until: float,
    seed: int,
    tally: Tally,
    lock: threading.Lock,
) -> None:
    rng = random.Random(seed)
    origin = f"https://127.0.0.1:{port}"
    conn = Wire(port)
    mine = Tally(seconds=[])
    while time.monotonic() < until:
        address = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        base = {"X-Forwarded-For": address, "X-Forwarded-Proto": "https"}
        jar: dict[str, str] = {}
        t0 = time.perf_counter()
        try:
            status, page_headers, body = conn.request("GET", path, base)
            keep_cookies(page_headers, jar)
            nonce = NONCE_RE.search(body)
            if status != 200 or not nonce:
                mine.errors += 1
                continue
            fields = [("nonce", nonce[1].decode())]
            if len(communities) > 1:
                fields.append(("community", rng.choice(communities)))
            fields += _sheet(rng, structure)
            headers = {
                **base,
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
                "Origin": origin,
                "Referer": origin + path,
            }
            status, _headers, text = conn.request("POST", path, headers, urlencode(fields).encode())
        except (OSError, ValueError, IndexError):
            mine.errors += 1
            conn.close()
            continue
        if status == 200 and "提交成功".encode() in text:
            mine.accepted += 1
            assert mine.seconds is not None
            mine.seconds.append(time.perf_counter() - t0)
        else:
            mine.refused += 1
    conn.close()
    with lock:
        tally.accepted += mine.accepted
        tally.refused += mine.refused
        tally.errors += mine.errors
        assert tally.seconds is not None and mine.seconds is not None
        tally.seconds.extend(mine.seconds)


def _ping(port: int, until: float, tally: Tally, lock: threading.Lock) -> None:
    conn = Wire(port)
    n = 0
    while time.monotonic() < until:
        status, _headers, _body = conn.request("GET", "/healthz", {})
        n += status == 200
    conn.close()
    with lock:
        tally.accepted += n


def generate(
    port: int,
    path: str,
    structure: list[tuple[str, str, list[int]]],
    communities: list[int],
    seconds: float,
    threads: int,
    seed: int,
) -> Tally:
    """One generator process: `threads` phones (or pings when `path` is empty)."""
    tally, lock = Tally(seconds=[]), threading.Lock()
    until = time.monotonic() + seconds
    workers = [
        threading.Thread(
            target=_phone if path else _ping,
            args=(port, path, structure, communities, until, seed * 1000 + i, tally, lock)
            if path
            else (port, until, tally, lock),
        )
        for i in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return tally


def load(
    port: int,
    path: str,
    structure: list[tuple[str, str, list[int]]],
    communities: list[int],
    *,
    seconds: float,
    processes: int,
    threads: int,
) -> tuple[Tally, float]:
    started = time.perf_counter()
    with ProcessPoolExecutor(processes) as pool:
        futures = [
            pool.submit(generate, port, path, structure, communities, seconds, threads, p + 1)
            for p in range(processes)
        ]
        parts = [f.result() for f in futures]
    elapsed = time.perf_counter() - started
    total = Tally(seconds=[])
    for part in parts:
        total.accepted += part.accepted
        total.refused += part.refused
        total.errors += part.errors
        assert total.seconds is not None and part.seconds is not None
        total.seconds += part.seconds
    return total, elapsed


# ---- the steps ---------------------------------------------------------------------------------


def throughput(results: Results, url: str, *, seconds: float) -> None:
    from django.urls import reverse

    from sanlian.core.models import User
    from sanlian.delivery.models import SurveyResponse
    from sanlian.organizations.models import Community

    collect = run_child(sanlian("collectstatic", "--noinput", "-v0"), production_env(url))
    if collect.returncode:
        raise SystemExit(f"collectstatic failed:\n{collect.stderr[-3000:]}")
    city = User.objects.get(username="city")
    communities = list(Community.objects.active().order_by("pk")[:3])
    _drop(BENCH_TITLE)
    survey = _build(BENCH_TITLE, communities, city)
    path = reverse("delivery:survey_answer", args=[survey.token])
    structure = _structure(survey)
    ids = [c.pk for c in communities]
    processes = max(1, len(os.sched_getaffinity(0)) // 2)
    threads = 12
    print(
        f"survey: {server_shape()}, production settings, "
        f"{processes} generator process(es) × {threads} phones, {seconds:.0f} s …",
        flush=True,
    )
    with Server(url) as server:
        load(server.port, path, structure, ids, seconds=2, processes=processes, threads=threads)
        warm = SurveyResponse.objects.filter(survey=survey).count()
        assert server.proc is not None
        cpu0 = Cpu.now(server.proc.pid)
        tally, elapsed = load(
            server.port, path, structure, ids, seconds=seconds, processes=processes, threads=threads
        )
        cpu1 = Cpu.now(server.proc.pid)
        ref, ref_elapsed = load(
            server.port, "", [], [], seconds=min(5.0, seconds), processes=processes,
            threads=threads,
        )  # fmt: skip
        cpu2 = Cpu.now(server.proc.pid)
    stored = SurveyResponse.objects.filter(survey=survey).count() - warm
    rate = tally.accepted / elapsed
    ref_rate = ref.accepted / ref_elapsed
    bench = "survey answers"
    results.add(
        bench,
        f"answers accepted per second ({elapsed:.0f} s, GET page + POST answer)",
        f"{rate:,.0f}/s",
        f"target ≥ {TARGET_ANSWERS_PER_S}/s; production settings, {server_shape()}, Redis cache",
    )
    assert tally.seconds is not None
    if tally.seconds:
        results.add(
            bench, f"latency of an answer (n={tally.accepted:,})", Latency.of(tally.seconds).text()
        )
    results.add(
        bench,
        "stored = accepted",
        f"{stored:,} stored, {tally.accepted:,} accepted"
        + (" (equal)" if stored == tally.accepted else " (DIFFERENT)"),
        f"refused {tally.refused:,}, errors {tally.errors:,}",
    )
    results.add(
        bench,
        "CPU per answer: web server · PostgreSQL · generator",
        cpu1.per(cpu0, tally.accepted),
        "from /proc; steadier than answers/s when the machine's speed drifts",
    )
    results.add(bench, "reference: GET /healthz per second", f"{ref_rate:,.0f}/s")
    results.add(
        bench, "reference: CPU per /healthz: web server · PostgreSQL · generator",
        cpu2.per(cpu1, ref.accepted),
    )  # fmt: skip
    results.add(bench, "ratio healthz / answers", ratio(ref_rate, rate))


def _fill(survey: Any, responses: int) -> None:
    """`responses` random responses with their answers, written with COPY."""
    from django.db import connection
    from django.utils import timezone

    from sanlian.delivery.services.surveys import survey_shape

    shape = survey_shape(survey)
    communities = [pk for pk, _ in shape.communities]
    rng = random.Random(100_000)
    now = timezone.now()
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM delivery_surveyresponse")
        first = int(cur.fetchone()[0]) + 1
        raw = connection.connection.cursor()
        with raw.copy(
            "COPY delivery_surveyresponse (id, survey_id, community_id, nonce, device_hash,"
            " ip_hash, submitted_at) FROM STDIN"
        ) as copy:
            for i in range(responses):
                copy.write_row(
                    (first + i, survey.pk, rng.choice(communities), uuid.uuid4().hex,
                     uuid.uuid4().hex, "", now - timedelta(seconds=i))
                )  # fmt: skip
        with raw.copy(
            "COPY delivery_answer (response_id, survey_id, community_id, question_id,"
            " option_id, number, text) FROM STDIN"
        ) as copy:
            for i in range(responses):
                community = rng.choice(communities)
                for q in shape.questions:
                    row = [first + i, survey.pk, community, q.id, None, None, ""]
                    if q.kind == "single":
                        copy.write_row([*row[:4], rng.choice(q.options).id, None, ""])
                    elif q.kind == "multiple":
                        for o in rng.sample(q.options, rng.randint(0, 3)):
                            copy.write_row([*row[:4], o.id, None, ""])
                    elif q.kind in ("likert", "number"):
                        copy.write_row([*row[:5], rng.randint(1, 5), ""])
                    elif rng.random() < 0.2:
                        copy.write_row([*row[:6], "希望多办健康讲座"])
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('delivery_surveyresponse', 'id'),"
            " (SELECT MAX(id) FROM delivery_surveyresponse))"
        )
        # As a database in use would be: planner statistics, and the visibility map that lets
        # the counts read the covering index alone.
        cur.execute("VACUUM (ANALYZE) delivery_surveyresponse")
        cur.execute("VACUUM (ANALYZE) delivery_answer")


def _render(client: Any, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(url)
        out.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.status_code
    return out


def results_page(results: Results, *, responses: int) -> None:
    from django.test import Client
    from django.urls import reverse

    from sanlian.core.models import User
    from sanlian.delivery.models import Survey, SurveyResponse
    from sanlian.organizations.models import Community

    city = User.objects.get(username="city")
    communities = list(Community.objects.active().order_by("pk")[:8])
    big = Survey.objects.filter(title=BIG_TITLE).order_by("-pk").first()
    if big is None or SurveyResponse.objects.filter(survey=big).count() != responses:
        _drop(BIG_TITLE)
        big = _build(BIG_TITLE, communities, city)
        t0 = time.perf_counter()
        _fill(big, responses)
        print(
            f"survey: {responses:,} responses written with COPY ({time.perf_counter() - t0:.1f} s)"
        )
    _drop(EMPTY_TITLE)
    empty = _build(EMPTY_TITLE, communities, city)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(city)
    big_url = reverse("delivery:survey_results", args=[big.pk])
    empty_url = reverse("delivery:survey_results", args=[empty.pk])
    _render(client, big_url, 2)  # warm-up, not counted
    _render(client, empty_url, 2)
    timed = _render(client, big_url, 7)
    reference = _render(client, empty_url, 7)
    bench = "survey results"
    median = statistics.median(timed)
    results.add(
        bench,
        f"results page at {responses:,} responses (n=7)",
        Latency.of(timed).text(),
        f"target < {TARGET_RESULTS_S:.0f} s; median {ms(median * 1000)}",
    )
    results.add(bench, "reference: the same page, no responses (n=7)", Latency.of(reference).text())
    results.add(
        bench, "ratio median / reference median", ratio(median, statistics.median(reference))
    )


def run(results: Results, *, url: str, seconds: float = 10, responses: int = 100_000) -> None:
    throughput(results, url, seconds=seconds)
    results_page(results, responses=responses)
