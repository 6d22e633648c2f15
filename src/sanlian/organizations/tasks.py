"""Background tasks of 组织联建."""

from __future__ import annotations

from typing import Any

from sanlian.core.models import TaskRun
from sanlian.core.tasks import task

from . import demo


@task("organizations.seed", atomic=True)
def seed_task(run: TaskRun, scale: str = "small", seed: int = 1) -> dict[str, Any]:
    return demo.seed(scale, seed)


@task("organizations.import_xlsx")
def import_xlsx_task(run: TaskRun, **params: Any) -> dict[str, Any]:
    """An Excel import (not atomic as a whole: each batch commits with its checkpoint, and a
    re-run resumes after the last one)."""
    from .importers import import_execute

    return import_execute(run=run)
