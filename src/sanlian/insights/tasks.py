"""Background tasks of 数据分析: the dashboards' snapshots."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.utils import timezone

from sanlian.core import tasks
from sanlian.core.models import TaskRun
from sanlian.core.tasks import task

from .services import snapshots


@task("insights.refresh_dashboards")
def refresh_dashboards_task(run: TaskRun, areas: list[int] | None = None) -> dict[str, Any]:
    """Recompute the dashboard snapshots of `areas` (default: every area)."""
    return snapshots.refresh(
        areas,
        progress=lambda done, total: tasks.report_progress(run, done, total, "数据看板快照"),
    )


@shared_task(name="sanlian.insights.refresh_dashboards")
def refresh_dashboards_periodic() -> str:
    """Celery beat's entry (CELERY_BEAT_SCHEDULE): one full refresh per interval, through the
    task layer so that it is recorded, retried and never run twice for the same interval."""
    minutes = snapshots.refresh_minutes()
    now = timezone.now()
    bucket = int(now.timestamp()) // (minutes * 60)
    run = tasks.enqueue("insights.refresh_dashboards", {}, idempotency_key=f"dashboards:{bucket}")
    return str(run.pk)
