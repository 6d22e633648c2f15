"""Background tasks of 组织联建."""

from __future__ import annotations

from typing import Any

from sanlian.core.models import TaskRun
from sanlian.core.tasks import task

from . import demo


@task("organizations.seed", atomic=True)
def seed_task(run: TaskRun, scale: str = "small", seed: int = 1) -> dict[str, Any]:
    return demo.seed(scale, seed)
