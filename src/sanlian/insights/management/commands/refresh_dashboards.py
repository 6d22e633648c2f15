"""`sanlian refresh_dashboards [--area ID …] [--background]`: recompute the dashboards'
snapshots now (cron's entry where no Celery beat runs; the benchmarks' after a seed)."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sanlian.core import tasks


class Command(BaseCommand):
    help = "重新统计数据看板快照（默认全部层级）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--area", type=int, action="append", help="only this area (repeat)")
        parser.add_argument(
            "--background", action="store_true", help="enqueue through the task layer and return"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        params = {"areas": options["area"]} if options["area"] else {}
        run = tasks.enqueue(
            "insights.refresh_dashboards", params, dispatch=bool(options["background"])
        )
        if options["background"]:
            self.stdout.write(f"enqueued task {run.pk}")
            return
        tasks.execute(str(run.pk))
        run.refresh_from_db()
        self.stdout.write(json.dumps(run.result, ensure_ascii=False))
        self.stdout.write(f"seconds={time.monotonic() - started:.1f}")
