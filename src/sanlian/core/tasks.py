"""The task layer: one way to run background work, on Celery + Redis or in-process.

A task is a registered function `fn(run, **params) -> dict`. `enqueue` writes a TaskRun row
and dispatches it only after the surrounding transaction commits. Celery acknowledges late
and re-queues the work of a worker that died; task functions are written to be idempotent
(all-or-nothing transactions, natural keys), so a re-run completes without duplicates.
`execute` runs one TaskRun at a time: a second delivery of the same run (a redelivery while
the first is still at work, a retry racing a re-queue) waits for the first and then finds
it done.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    close_old_connections,
    connections,
    transaction,
)
from django.utils import timezone

from .models import TaskRun, TaskStatus, User

log = logging.getLogger(__name__)

TaskFn = Callable[..., dict[str, Any]]
_registry: dict[str, TaskFn] = {}
_atomic_tasks: set[str] = set()
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def task(name: str, *, atomic: bool = False) -> Callable[[TaskFn], TaskFn]:
    """Register a task. `atomic=True`: its work and the run's "done" commit together, so a
    worker that dies in between leaves nothing half-recorded and the re-run redoes it all."""

    def register(fn: TaskFn) -> TaskFn:
        _registry[name] = fn
        if atomic:
            _atomic_tasks.add(name)
        return fn

    return register


def registered() -> dict[str, TaskFn]:
    return dict(_registry)


def enqueue(
    name: str,
    params: dict[str, Any] | None = None,
    *,
    user: User | None = None,
    idempotency_key: str | None = None,
    dispatch: bool = True,
) -> TaskRun:
    """Record a run and hand it to the backend after commit (`dispatch=False`: the caller
    will `execute` it in the foreground)."""
    if name not in _registry:
        raise KeyError(f"unknown task {name}")
    if idempotency_key:
        existing = TaskRun.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.status == TaskStatus.FAILED:
                # A failed run is retried under the same key. The conditional update lets
                # exactly one of several concurrent callers re-dispatch it.
                claimed = TaskRun.objects.filter(pk=existing.pk, status=TaskStatus.FAILED).update(
                    status=TaskStatus.PENDING, message=""
                )
                existing.refresh_from_db()
                if claimed and dispatch:
                    retry_id = str(existing.pk)
                    transaction.on_commit(lambda: _dispatch(retry_id))
            return existing
    try:
        with transaction.atomic():
            run = TaskRun.objects.create(
                name=name, params=params or {}, idempotency_key=idempotency_key, created_by=user
            )
    except IntegrityError:  # the same key enqueued concurrently: that run is ours too
        return TaskRun.objects.get(idempotency_key=idempotency_key)
    run_id = str(run.pk)
    if dispatch:
        transaction.on_commit(lambda: _dispatch(run_id))
    return run


def _dispatch(run_id: str) -> None:
    if settings.TASKS_BACKEND == "celery":
        try:
            run_task.apply_async(args=[run_id])
        except Exception as exc:
            # The broker refused it: say so on the run (a later enqueue under the same key
            # retries it) instead of leaving it pending for ever.
            log.exception("could not hand task run %s to Celery", run_id)
            TaskRun.objects.filter(pk=run_id, status=TaskStatus.PENDING).update(
                status=TaskStatus.FAILED, message=f"未能提交到任务队列：{exc}"[:500]
            )
            raise
    elif settings.TASKS_INPROCESS_SYNC:
        execute(run_id)
    else:
        _get_executor().submit(_execute_in_thread, run_id)


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sanlian-task")
        return _executor


def _execute_in_thread(run_id: str) -> None:
    close_old_connections()
    try:
        execute(run_id)
    finally:
        close_old_connections()


def execute(run_id: str) -> None:
    """Run one TaskRun to completion. Safe to call again for the same run, also while
    another process is running it: the second call waits, then finds the run done."""
    key = uuid.UUID(str(run_id))
    with _exclusive(key):
        with transaction.atomic():
            run = TaskRun.objects.select_for_update().get(pk=key)
            if run.status == TaskStatus.DONE:
                return  # a redelivered message for finished work
            run.status = TaskStatus.RUNNING
            run.attempts += 1
            run.started_at = timezone.now()
            run.save(update_fields=["status", "attempts", "started_at"])
        try:
            fn = _registry[run.name]
            with transaction.atomic() if run.name in _atomic_tasks else contextlib.nullcontext():
                result = fn(run, **run.params)
                TaskRun.objects.filter(pk=run.pk).update(
                    status=TaskStatus.DONE, result=result, finished_at=timezone.now(), message=""
                )
        except Exception as exc:
            log.exception("task %s failed", run.name)
            TaskRun.objects.filter(pk=run.pk).update(
                status=TaskStatus.FAILED, message=str(exc)[:500], finished_at=timezone.now()
            )
            raise


@contextlib.contextmanager
def _exclusive(run_id: uuid.UUID) -> Iterator[None]:
    """Hold the run's lock while it executes; the holder's death releases it.

    PostgreSQL: a session-level advisory lock (it ends with the connection). SQLite, which
    lives on one host: an flock on a file in the data directory (it ends with the process).
    """
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor == "postgresql":
        lock_key = int.from_bytes(run_id.bytes[:8], "big", signed=True)
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [lock_key])
        try:
            yield
        finally:
            try:
                with conn.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key])
            except DatabaseError:  # the connection is gone, and the lock with it
                log.warning("could not release the lock of task run %s", run_id)
        return
    if conn.vendor == "sqlite":
        with _file_lock(settings.DATA_DIR / "task-locks" / f"{run_id}.lock"):
            yield
        return
    yield  # pragma: no cover - no other database is supported


@contextlib.contextmanager
def _file_lock(path: os.PathLike[str]) -> Iterator[None]:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the previous holder removed the file after we opened it: again
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)


def report_progress(run: TaskRun, done: int, total: int, message: str = "") -> None:
    """Visible to the progress bar at once, even from inside the task's own transaction
    (except on SQLite, whose single writer is that transaction: there it lands at commit).
    Each call inside a transaction opens a connection: report coarse steps, not rows."""
    message = message[:500]
    run.progress, run.total, run.message = done, total, message
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.in_atomic_block and conn.vendor != "sqlite" and _update_beside(run, conn.alias):
        return
    TaskRun.objects.filter(pk=run.pk).update(progress=done, total=total, message=message)


def _update_beside(run: TaskRun, alias: str) -> bool:
    """Write the run's progress on a connection of its own (autocommit), so that it is not
    part of the caller's open transaction; False if that was not possible."""
    side = connections.create_connection(alias)
    table = side.ops.quote_name(TaskRun._meta.db_table)
    try:
        with side.cursor() as cursor:
            # SKIP LOCKED: if the caller's transaction holds the row, never wait for it.
            cursor.execute(
                f"UPDATE {table} SET progress = %s, total = %s, message = %s "  # noqa: S608
                f"WHERE id = (SELECT id FROM {table} WHERE id = %s FOR UPDATE SKIP LOCKED)",
                [run.progress, run.total, run.message, run.pk],
            )
            return cursor.rowcount == 1
    except DatabaseError:
        log.warning("could not report the progress of task run %s", run.pk, exc_info=True)
        return False
    finally:
        side.close()


@shared_task(name="sanlian.run_task", acks_late=True, reject_on_worker_lost=True)
def run_task(run_id: str) -> None:
    execute(run_id)
