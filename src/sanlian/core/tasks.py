"""The task layer: one way to run background work, on Celery + Redis or in-process.

A task is a registered function `fn(run, **params) -> dict`. `enqueue` writes a TaskRun row
and dispatches it only after the surrounding transaction commits. Celery acknowledges late
and re-queues the work of a worker that died; task functions are written to be idempotent
(all-or-nothing transactions, natural keys), so a re-run completes without duplicates.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from .models import TaskRun, TaskStatus, User

log = logging.getLogger(__name__)

TaskFn = Callable[..., dict[str, Any]]
_registry: dict[str, TaskFn] = {}
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def task(name: str) -> Callable[[TaskFn], TaskFn]:
    def register(fn: TaskFn) -> TaskFn:
        _registry[name] = fn
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
        if existing is not None and existing.status != TaskStatus.FAILED:
            return existing
        if existing is not None:  # a failed run is retried under the same key
            existing.status = TaskStatus.PENDING
            existing.message = ""
            existing.save(update_fields=["status", "message"])
            if dispatch:
                transaction.on_commit(lambda: _dispatch(str(existing.pk)))
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
        run_task.apply_async(args=[run_id])
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
    """Run one TaskRun to completion. Safe to call again for the same run."""
    with transaction.atomic():
        run = TaskRun.objects.select_for_update().get(pk=run_id)
        if run.status == TaskStatus.DONE:
            return  # a redelivered message for finished work
        run.status = TaskStatus.RUNNING
        run.attempts += 1
        run.started_at = timezone.now()
        run.save(update_fields=["status", "attempts", "started_at"])
    fn = _registry[run.name]
    try:
        result = fn(run, **run.params)
    except Exception as exc:
        log.exception("task %s failed", run.name)
        TaskRun.objects.filter(pk=run.pk).update(
            status=TaskStatus.FAILED, message=str(exc)[:500], finished_at=timezone.now()
        )
        raise
    TaskRun.objects.filter(pk=run.pk).update(
        status=TaskStatus.DONE, result=result, finished_at=timezone.now(), message=""
    )


def report_progress(run: TaskRun, done: int, total: int, message: str = "") -> None:
    """Visible to the progress bar at once: written outside the task's own transaction."""
    run.progress, run.total = done, total
    TaskRun.objects.filter(pk=run.pk).update(progress=done, total=total, message=message[:500])


@shared_task(name="sanlian.run_task", acks_late=True, reject_on_worker_lost=True)
def run_task(run_id: str) -> None:
    execute(run_id)
