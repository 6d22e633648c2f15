"""End-to-end helpers for the Celery tests: a database of their own, `sanlian` commands and
real Celery workers in subprocesses, and direct reads of the database those processes share.

pytest-django's test database cannot be shared with another process (SQLite's is in memory,
PostgreSQL's is inside the test transaction), so every test here gets a database of its own:
a SQLite file, or a freshly created PostgreSQL database that is dropped at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import redis
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS_TEST_URL = os.environ.get("SANLIAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

T = TypeVar("T")


def redis_problem(url: str = REDIS_TEST_URL) -> str | None:
    """None when Redis answers PING, otherwise why not."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.05) -> T:
    """Poll until `probe` returns something truthy; fail loudly after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Database:
    """One database that the test and its subprocesses share."""

    url: str
    vendor: str  # "sqlite" or "postgresql"
    admin_url: str = ""  # PostgreSQL: where CREATE/DROP DATABASE is run
    name: str = ""

    @classmethod
    def create(cls, tmp: Path, template: Database | None = None) -> Database:
        """A new empty database (or a copy of `template`) like the suite's current one."""
        from django.conf import settings

        base = settings.DATABASES["default"]
        if base["ENGINE"].endswith("sqlite3"):
            path = tmp / f"db-{uuid.uuid4().hex[:8]}.sqlite3"
            if template is not None:
                with (
                    contextlib.closing(sqlite3.connect(template.name)) as src,
                    contextlib.closing(sqlite3.connect(path)) as dst,
                ):
                    src.backup(dst)
            return cls(url=f"sqlite:///{path}", vendor="sqlite", name=str(path))
        admin_url = os.environ.get("DATABASE_URL", "")
        if not admin_url.startswith("postgres"):
            user, host, port = base["USER"], base["HOST"] or "127.0.0.1", base["PORT"] or 5432
            admin_url = f"postgres://{user}@{host}:{port}/postgres"
        name = f"sanlian_celery_{uuid.uuid4().hex[:12]}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template.name)
            )
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
        return cls(url=url, vendor="postgresql", admin_url=admin_url, name=name)

    def drop(self) -> None:
        if self.vendor == "postgresql":
            with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.name)
                    )
                )
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(self.name + suffix).unlink(missing_ok=True)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read what the other processes committed (placeholders: `%s`)."""
        if self.vendor == "sqlite":
            uri = f"file:{self.name}?mode=ro"
            with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as conn:
                return conn.execute(statement.replace("%s", "?"), tuple(params)).fetchall()
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            return conn.execute(statement, tuple(params)).fetchall()

    def scalar(self, statement: str, params: Sequence[Any] = ()) -> Any:
        return self.query(statement, params)[0][0]


@dataclass
class Site:
    """The environment of one deployment under test: database, data directory, Redis queue."""

    db: Database
    data_dir: Path
    queue: str = field(default_factory=lambda: f"sanlian-test-{uuid.uuid4().hex[:12]}")
    extra_env: dict[str, str] = field(default_factory=dict)
    logs: list[Path] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SANLIAN_", "CELERY_"))}
        env.update(
            DATABASE_URL=self.db.url,
            SANLIAN_DATA_DIR=str(self.data_dir),
            REDIS_URL=REDIS_TEST_URL,
            SANLIAN_CELERY_QUEUE=self.queue,
            DJANGO_SETTINGS_MODULE="sanlian.config.settings",
            PYTHONUNBUFFERED="1",
        )
        env.pop("PYTEST_XDIST_WORKER", None)
        env.update(self.extra_env)
        return env

    def manage(self, *args: str, timeout: float = 120) -> str:
        """Run `sanlian <args>` against this site; its output, or a failure with it."""
        proc = subprocess.run(
            [str(BIN / "sanlian"), *args],
            env=self.env(),
            cwd=self.data_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert proc.returncode == 0, (
            f"sanlian {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
        )
        return proc.stdout

    @contextlib.contextmanager
    def worker(self, name: str = "w") -> Iterator[Worker]:
        """A real Celery worker (prefork, one child) in a process group of its own."""
        log = self.data_dir / f"worker-{name}-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    str(BIN / "celery"),
                    "-A",
                    "sanlian.config",
                    "worker",
                    "-Q",
                    self.queue,
                    "-n",
                    f"{name}-{self.queue}@%h",
                    "--concurrency",
                    "1",
                    "--pool",
                    "prefork",
                    "-l",
                    "info",
                    "--without-mingle",
                    "--without-gossip",
                    "--without-heartbeat",
                ],
                env=self.env(),
                cwd=self.data_dir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one below
            )
        worker = Worker(proc, log)
        try:
            yield worker
        finally:
            worker.stop()

    def worker_logs(self) -> str:
        return "\n".join(
            f"== {p.name}\n{p.read_text(errors='replace')}" for p in self.logs if p.exists()
        )

    def purge_redis(self) -> None:
        """Drop this site's queue, bindings and unacknowledged messages from the shared Redis
        database (the `unacked` index is global there, not per queue)."""
        client = redis.Redis.from_url(REDIS_TEST_URL, socket_timeout=2)
        try:
            keys = list(client.scan_iter(match=f"*{self.queue}*"))
            if keys:
                client.delete(*keys)
            for tag, raw in client.hscan_iter("unacked"):
                with contextlib.suppress(ValueError, TypeError, IndexError):
                    if json.loads(raw)[2] == self.queue:
                        client.hdel("unacked", tag)
                        client.zrem("unacked_index", tag)
        finally:
            client.close()


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path

    def ready(self) -> bool:
        assert self.proc.poll() is None, f"worker exited early:\n{self.log.read_text()}"
        return b" ready." in self.log.read_bytes()

    def wait_ready(self, timeout: float = 60) -> None:
        wait_for("the Celery worker to be ready", self.ready, timeout, interval=0.1)

    def pool_children(self) -> list[int]:
        """The prefork pool's processes (the ones that execute tasks)."""
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            return [int(pid) for pid in path.read_text().split()]
        return []

    def kill_child(self) -> int:
        """SIGKILL the pool child in the middle of its work; the parent lives on."""
        (child,) = wait_for("the pool child", self.pool_children, 10)
        os.kill(child, signal.SIGKILL)
        return child

    def stop(self, timeout: float = 20) -> None:
        """Warm shutdown (SIGTERM): the worker finishes and acknowledges what it is running.
        A worker SIGKILLed just after a task finished may not have acknowledged it yet, and
        Redis would hand that message out again later."""
        if self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
        self.kill()

    def kill(self) -> None:
        """SIGKILL the whole worker: the main process and its pool, as one process group."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
