"""The task layer: on a real Celery worker against the local Redis, and in-process.

The `celery` tests run end to end in subprocesses (`sanlian migrate`, `sanlian seed
--background`, `celery worker`) against a database of their own, on SQLite or PostgreSQL
like the rest of the run, and a Redis queue of their own. They skip only when Redis is not
reachable and CI is not "true"; under CI they fail instead.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from sanlian.core import tasks
from sanlian.core.models import TaskRun, TaskStatus

from ..celery_support import REDIS_TEST_URL, Database, Site, redis_problem, wait_for

SMALL = {"communities": 8, "people": 320, "users": 11, "organizations": 46}
VISIBILITY_TIMEOUT = 5  # seconds; the default is an hour
RUN_TIMEOUT = 90  # seconds for one small seed on a busy CI machine (it takes 3-5 s here)


# -- end to end: a real worker ---------------------------------------------------------------


@pytest.fixture(scope="module")
def _redis_available() -> None:
    problem = redis_problem()
    if problem is None:
        return
    message = (
        f"Redis at {REDIS_TEST_URL} is unreachable ({problem}): the real-worker tests did not run"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(f"!!! {message} !!!")


@pytest.fixture(scope="module")
def _migrated(
    _redis_available: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """One migrated database per module; each test gets a copy of it."""
    tmp = tmp_path_factory.mktemp("celery-template")
    db = Database.create(tmp)
    try:
        Site(db, tmp).manage("migrate", "--no-input", "-v0")
        yield db
    finally:
        db.drop()


@pytest.fixture
def site(_migrated: Database, tmp_path: Path) -> Iterator[Site]:
    db = Database.create(tmp_path, template=_migrated)
    s = Site(db, tmp_path)
    try:
        yield s
    finally:
        print(s.worker_logs())  # shown when the test failed
        s.purge_redis()
        db.drop()


def seed_run(db: Database) -> dict[str, Any]:
    rows = db.query(
        "SELECT status, attempts, message FROM core_taskrun WHERE idempotency_key = %s",
        ["seed:small:1"],
    )
    if not rows:
        return {}
    status, attempts, message = rows[0]
    return {"status": status, "attempts": attempts, "message": message}


def status_is(db: Database, status: str) -> bool:
    return seed_run(db).get("status") == status


def counts(db: Database) -> dict[str, int]:
    return {
        "communities": db.scalar("SELECT count(*) FROM organizations_community"),
        "people": db.scalar("SELECT count(*) FROM organizations_person"),
        "users": db.scalar("SELECT count(*) FROM core_user"),
        "organizations": db.scalar("SELECT count(*) FROM organizations_organization"),
    }


def assert_seeded_once(db: Database) -> None:
    assert counts(db) == SMALL
    assert (
        db.scalar("SELECT count(*) FROM organizations_organization WHERE kind = 'federation'") == 1
    )
    codes = db.query(
        "SELECT credit_code, count(*) FROM organizations_organization "
        "WHERE credit_code IS NOT NULL GROUP BY credit_code HAVING count(*) > 1"
    )
    assert codes == [], f"duplicate credit codes: {codes}"
    people = db.query(
        "SELECT id_number_hash FROM organizations_person WHERE id_number_hash <> '' "
        "GROUP BY id_number_hash HAVING count(*) > 1"
    )
    assert people == [], "the same resident twice"


def enqueue_seed(site: Site) -> str:
    out = site.manage("seed", "--scale", "small", "--background")
    match = re.search(r"enqueued task (\S+)", out)
    assert match, out
    return match.group(1)


def queue_length(site: Site) -> int:
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_timeout=2)
    try:
        return int(client.llen(site.queue))
    finally:
        client.close()


def wait_mid_transaction(db: Database) -> None:
    """Return while the seed's transaction is open and has written rows."""
    if db.vendor == "postgresql":
        wait_for(
            "the seed's open transaction to hold inserted people",
            lambda: db.scalar(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'organizations_person' AND l.mode = 'RowExclusiveLock' "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            RUN_TIMEOUT,
            interval=0.02,
        )
    else:
        # SQLite shows an open write transaction to others only as its write lock: seen twice
        # in a row (a status update holds it for a moment only), the seed is writing.
        wait_for(
            "the seed's open transaction to hold the write lock",
            lambda: _sqlite_write_locked(db, times=2),
            RUN_TIMEOUT,
            interval=0.01,
        )


def _sqlite_write_locked(db: Database, times: int) -> bool:
    """Whether another connection holds the database's write lock, `times` probes in a row
    20 ms apart (each probe takes the lock without waiting, and gives it back at once)."""
    for probe in range(times):
        if probe:
            time.sleep(0.02)
        conn = sqlite3.connect(db.name, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
        finally:
            conn.close()
    return True


@pytest.mark.celery
def test_seed_runs_through_a_real_celery_worker(site: Site) -> None:
    enqueue_seed(site)
    # REDIS_URL is set, so the task layer handed the run to Celery, on this site's queue.
    assert seed_run(site.db)["status"] == TaskStatus.PENDING
    assert queue_length(site) == 1
    with site.worker():
        wait_for("the seed to finish", lambda: status_is(site.db, TaskStatus.DONE), RUN_TIMEOUT)
    assert seed_run(site.db) == {"status": "done", "attempts": 1, "message": ""}
    assert_seeded_once(site.db)
    assert queue_length(site) == 0


@pytest.mark.celery
@pytest.mark.parametrize("kill", ["pool-child", "whole-worker"])
def test_killed_worker_rerun_completes_without_duplicates(site: Site, kill: str) -> None:
    site.extra_env["SANLIAN_TASK_VISIBILITY_TIMEOUT"] = str(VISIBILITY_TIMEOUT)
    with site.worker("first") as worker:
        enqueue_seed(site)  # while the worker boots
        wait_for("the seed to start", lambda: status_is(site.db, TaskStatus.RUNNING), RUN_TIMEOUT)
        started = time.monotonic()
        wait_mid_transaction(site.db)
        if kill == "pool-child":
            # The parent sees its child lost, rejects the message (reject_on_worker_lost)
            # and Redis hands it to the same worker's new child.
            worker.kill_child()
        else:
            worker.kill()
        run = seed_run(site.db)
        assert run["status"] == TaskStatus.RUNNING, f"the kill came too late: {run}"
        # All or nothing: the killed load left no rows behind.
        assert counts(site.db) == dict.fromkeys(SMALL, 0)
        if kill == "pool-child":
            wait_for("the re-run", lambda: status_is(site.db, TaskStatus.DONE), RUN_TIMEOUT)
    if kill == "whole-worker":
        # Nobody acknowledged the message; it waits unacked until the visibility timeout, and
        # a worker starting after that restores it to the queue.
        assert seed_run(site.db)["status"] == TaskStatus.RUNNING
        assert queue_length(site) == 0
        time.sleep(max(0.0, started + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
        with site.worker("second"):
            wait_for("the re-run", lambda: status_is(site.db, TaskStatus.DONE), RUN_TIMEOUT)
    run = seed_run(site.db)
    assert run["status"] == TaskStatus.DONE
    assert run["attempts"] >= 2
    assert_seeded_once(site.db)


# -- in-process: the contract of enqueue and execute -----------------------------------------


@pytest.fixture
def echo(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A registered task that records its calls."""
    calls: list[dict[str, Any]] = []

    def run(run: TaskRun, **params: Any) -> dict[str, Any]:
        calls.append(params)
        return {"echo": params}

    monkeypatch.setitem(tasks._registry, "tests.echo", run)
    return calls


@pytest.fixture
def dispatched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(tasks, "_dispatch", calls.append)
    return calls


class Rollback(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_enqueue_waits_for_commit(echo: list[dict[str, Any]], dispatched: list[str]) -> None:
    with transaction.atomic():
        run = tasks.enqueue("tests.echo", {"n": 1})
        assert dispatched == []
    assert dispatched == [str(run.pk)]

    with pytest.raises(Rollback), transaction.atomic():
        tasks.enqueue("tests.echo", {"n": 2})
        raise Rollback
    assert dispatched == [str(run.pk)]
    assert TaskRun.objects.count() == 1
    assert echo == []


@pytest.mark.django_db(transaction=True)
def test_inprocess_backend_runs_after_commit(echo: list[dict[str, Any]]) -> None:
    with transaction.atomic():
        run = tasks.enqueue("tests.echo", {"n": 1})
        assert echo == []
    assert echo == [{"n": 1}]
    run.refresh_from_db()
    assert (run.status, run.attempts, run.result) == (TaskStatus.DONE, 1, {"echo": {"n": 1}})


def test_idempotency_key_returns_same_run(db: None, echo: list[dict[str, Any]]) -> None:
    first = tasks.enqueue("tests.echo", {"n": 1}, idempotency_key="k1", dispatch=False)
    again = tasks.enqueue("tests.echo", {"n": 1}, idempotency_key="k1", dispatch=False)
    assert again.pk == first.pk
    assert TaskRun.objects.filter(idempotency_key="k1").count() == 1


def test_failed_run_is_retried_once_under_its_key(
    db: None,
    echo: list[dict[str, Any]],
    dispatched: list[str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    run = tasks.enqueue("tests.echo", {}, idempotency_key="k2", dispatch=False)
    TaskRun.objects.filter(pk=run.pk).update(status=TaskStatus.FAILED, message="boom")
    with django_capture_on_commit_callbacks(execute=True):
        retried = tasks.enqueue("tests.echo", {}, idempotency_key="k2")
        again = tasks.enqueue("tests.echo", {}, idempotency_key="k2")
    assert retried.pk == again.pk == run.pk
    assert (retried.status, retried.message) == (TaskStatus.PENDING, "")
    assert dispatched == [str(run.pk)]


def test_execute_is_safe_to_call_twice(db: None, echo: list[dict[str, Any]]) -> None:
    run = tasks.enqueue("tests.echo", {"n": 3}, dispatch=False)
    tasks.execute(str(run.pk))
    tasks.execute(str(run.pk))
    run.refresh_from_db()
    assert (run.status, run.attempts) == (TaskStatus.DONE, 1)
    assert echo == [{"n": 3}]


@pytest.mark.django_db(transaction=True)
def test_executions_of_one_run_take_turns() -> None:
    """What stops a redelivered message from running the same work twice at once."""
    key = uuid.uuid4()
    entered = threading.Event()

    def second() -> None:
        try:
            with tasks._exclusive(key):
                entered.set()
        finally:
            connections[DEFAULT_DB_ALIAS].close()

    with tasks._exclusive(key):
        thread = threading.Thread(target=second)
        thread.start()
        assert not entered.wait(0.5), "a second execution got in while the first held the run"
    assert entered.wait(10)
    thread.join(10)
    with tasks._exclusive(uuid.uuid4()):  # another run is not held up
        pass


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_task_transaction_is_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[int, int, str]] = []

    def work(run: TaskRun) -> dict[str, Any]:
        with transaction.atomic():
            tasks.report_progress(run, 1, 4, "a quarter")
            if connection.vendor == "postgresql":  # SQLite's single writer is this transaction
                other = connections.create_connection(DEFAULT_DB_ALIAS)
                try:
                    with other.cursor() as cursor:
                        cursor.execute(
                            "SELECT progress, total, message FROM core_taskrun WHERE id = %s",
                            [run.pk],
                        )
                        seen.append(cursor.fetchone())
                finally:
                    other.close()
        return {}

    monkeypatch.setitem(tasks._registry, "tests.work", work)
    run = tasks.enqueue("tests.work", dispatch=False)
    tasks.execute(str(run.pk))
    run.refresh_from_db()
    assert (run.progress, run.total, run.status) == (1, 4, TaskStatus.DONE)
    if connection.vendor == "postgresql":
        assert seen == [(1, 4, "a quarter")]
