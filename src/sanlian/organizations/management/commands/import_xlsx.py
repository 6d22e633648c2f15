"""`sanlian import_xlsx --kind people FILE [--user USERNAME]`: an Excel import from the shell.

Runs through the same task layer as the page (foreground), prints
`imported=N updated=N rejected=N` and the path of the error report. A run that died part-way
(killed, database gone) is completed with `--resume RUN_ID`: it continues after the last
committed batch, without duplicates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sanlian.core import tasks
from sanlian.core.importing import ImportFileError, check_size, sniff_format
from sanlian.core.models import TaskRun, TaskStatus, User
from sanlian.organizations import importers


class Command(BaseCommand):
    help = "从 Excel 文件导入居民与会员、组织、社工或志愿者（与“数据导入”页面相同的校验）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="the .xlsx / .xls / .ods file")
        parser.add_argument("--kind", choices=sorted(importers.SPECS))
        parser.add_argument(
            "--user",
            help="import as this user (their scope and roles); without it, the whole city",
        )
        parser.add_argument("--resume", metavar="RUN_ID", help="complete an interrupted run")

    def handle(self, *args: Any, **options: Any) -> None:
        resume = options["resume"]
        run = self._resumable(resume) if resume else self._start(options)
        self.stdout.write(f"run={run.pk}")
        try:
            tasks.execute(str(run.pk))
        except Exception as exc:
            raise CommandError(
                f"导入中断：{exc}\n已提交的批次已保存；用 --resume {run.pk} 从中断处继续。"
            ) from exc
        run.refresh_from_db()
        result = run.result
        if result.get("file_error"):
            raise CommandError(result["file_error"])
        self.stdout.write(
            f"imported={result['imported']} updated={result['updated']} "
            f"rejected={result['rejected']}"
        )
        report = importers.error_report_path(run)
        if report is not None:
            self.stdout.write(f"error_report={report}")

    def _start(self, options: dict[str, Any]) -> TaskRun:
        if not options["file"] or not options["kind"]:
            raise CommandError("需要 --kind 和文件路径（或 --resume RUN_ID）")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"用户不存在或已停用：{options['user']}")
            if not user.has_role(*importers.SPECS[options["kind"]].roles):
                raise CommandError(f"用户 {user.username} 无权导入这类数据")
        try:
            check_size(path.stat().st_size)
            file_format = sniff_format(path)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        return importers.import_start(
            by=user,
            kind=options["kind"],
            source=path,
            filename=path.name,
            file_format=file_format,
            dispatch=False,
        )

    def _resumable(self, run_id: str) -> TaskRun:
        run = TaskRun.objects.filter(pk=run_id, name=importers.IMPORT_TASK).first()
        if run is None:
            raise CommandError(f"没有这个导入任务：{run_id}")
        if run.status == TaskStatus.DONE:
            raise CommandError("这个导入已经完成")
        return run
