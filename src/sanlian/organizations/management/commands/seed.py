"""`sanlian seed --scale small|medium|city [--seed N]`: deterministic demo data."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sanlian.core import tasks
from sanlian.organizations.demo import SCALES


class Command(BaseCommand):
    help = "载入确定性的演示数据（small 用于演示与测试，medium 约为城市规模的十分之一，city 为城市规模）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--background",
            action="store_true",
            help="enqueue through the task layer and return (Celery when REDIS_URL is set)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        key = f"seed:{options['scale']}:{options['seed']}"
        if options["background"]:
            run = tasks.enqueue(
                "organizations.seed",
                {"scale": options["scale"], "seed": options["seed"]},
                idempotency_key=key,
            )
            self.stdout.write(f"enqueued task {run.pk}")
            return
        # Through the same task layer, run here and now.
        run = tasks.enqueue(
            "organizations.seed",
            {"scale": options["scale"], "seed": options["seed"]},
            idempotency_key=key,
            dispatch=False,
        )
        tasks.execute(str(run.pk))
        run.refresh_from_db()
        self.stdout.write(json.dumps(run.result, ensure_ascii=False))
        self.stdout.write(f"seconds={time.monotonic() - started:.1f}")
