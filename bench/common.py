"""What every benchmark shares: the bench database, child processes measured for time and
peak memory, percentiles and the results table."""

from __future__ import annotations

import base64
import hashlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
CACHE = BENCH_DIR / ".cache"
BIN = ROOT / ".venv" / "bin"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
# One fixed field-encryption key for every bench database, so that a database seeded by an
# earlier run decrypts in this one whatever data directory is around.
FIELD_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"sanlian-bench").digest()).decode()


def default_db_url(scale: str) -> str:
    return f"{PG_SERVER}/sanlian_bench_{scale}"


def db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def data_dir(url: str) -> Path:
    """Uploads and error reports of the bench database's imports."""
    path = CACHE / "data" / db_name(url)
    path.mkdir(parents=True, exist_ok=True)
    return path


def bench_env(url: str) -> dict[str, str]:
    """The environment of the app against the bench database (in-process and children)."""
    env = dict(os.environ)
    env.pop("REDIS_URL", None)  # tasks run in-process: the bench times the work, not a queue
    env.update(
        DATABASE_URL=url,
        SANLIAN_FIELD_KEY=FIELD_KEY,
        SANLIAN_DATA_DIR=str(data_dir(url)),
        DJANGO_SETTINGS_MODULE="sanlian.config.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


def ensure_database(url: str) -> bool:
    """Create the database if it is missing; True when it was created."""
    import psycopg
    from psycopg import sql

    name = db_name(url)
    with psycopg.connect(with_db(url, "postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(with_db(url, "postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name(url)))
        )


# ---- child processes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Child:
    returncode: int
    seconds: float
    max_rss_mb: float  # peak resident memory of the command itself
    stdout: str
    stderr: str


TIME = Path("/usr/bin/time")


def run_child(cmd: Sequence[str], env: dict[str, str]) -> Child:
    """Run a command to the end, timing it and reading its peak RSS.

    The peak comes from GNU time, which starts the command from its own small process: the
    kernel counts a forked child's pre-exec memory (here, the whole bench with Django loaded)
    in its ru_maxrss, so wait4 on a child of this process would report at least our size."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as rss,
    ):
        wrapped = [str(TIME), "-f", "%M", "-o", rss.name, *cmd] if TIME.exists() else list(cmd)
        started = time.perf_counter()
        proc = subprocess.run(wrapped, env=env, cwd=ROOT, stdout=out, stderr=err, check=False)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        peak_kb = rss.read().strip().splitlines()[-1:] if TIME.exists() else []
        return Child(
            returncode=proc.returncode,
            seconds=seconds,
            max_rss_mb=int(peak_kb[0]) / 1024 if peak_kb and peak_kb[0].isdigit() else float("nan"),
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def sanlian(*args: str) -> list[str]:
    return [str(BIN / "sanlian"), *args]


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


# ---- figures -------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


@dataclass(frozen=True)
class Latency:
    n: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        ms = [s * 1000 for s in seconds]
        return cls(
            len(ms),
            statistics.median(ms),
            percentile(ms, 95),
            percentile(ms, 99),
            max(ms),
        )

    def text(self) -> str:
        return f"p50 {ms(self.p50)} · p95 {ms(self.p95)} · p99 {ms(self.p99)} · max {ms(self.max)}"


def ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def secs(value: float) -> str:
    return (
        f"{value:.2f} s"
        if value < 10
        else f"{value:.1f} s"
        if value < 600
        else f"{value / 60:.1f} min"
    )


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}×" if b else "n/a"


@dataclass
class Results:
    """Rows of the one results table: (benchmark, figure, result, target or note)."""

    rows: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, bench: str, figure: str, result: str, note: str = "") -> None:
        self.rows.append((bench, figure, result, note))
        print(f"  {bench} | {figure} | {result}{' | ' + note if note else ''}", flush=True)

    def markdown(self) -> str:
        lines = ["| benchmark | figure | result | target / note |", "|---|---|---|---|"]
        for row in self.rows:
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
        return "\n".join(lines)


# ---- the machine ---------------------------------------------------------------------------


def memory_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def git_commit() -> str:
    """The checked-out commit, read from .git without running git."""
    git = ROOT / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: <its dir>", whose refs live in the common dir
            git = Path(git.read_text().strip().removeprefix("gitdir: "))
            head = (git / "HEAD").read_text().strip()
            if (git / "commondir").exists():
                git = (git / (git / "commondir").read_text().strip()).resolve()
        else:
            head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head[:12]
        ref = head[5:]
        loose = git / ref
        if loose.exists():
            return loose.read_text().strip()[:12]
        packed = git / "packed-refs"
        for line in packed.read_text().splitlines() if packed.exists() else []:
            sha, _, name = line.partition(" ")
            if name == ref:
                return sha[:12]
    except OSError:
        pass
    return "unknown"


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else "?"


def machine(results: Results, url: str) -> None:
    results.add("machine", "cores (nproc)", str(len(os.sched_getaffinity(0))))
    results.add("machine", "memory", f"{memory_gb():.1f} GB")
    results.add("machine", "Python", platform.python_version())
    results.add("machine", "PostgreSQL", postgres_version(url), db_name(url))
    results.add("machine", "date", datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"))
    results.add("machine", "git commit", git_commit())
