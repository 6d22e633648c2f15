"""`sanlian audit_verify`: walk the audit hash chain; exit 1 if it is broken."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sanlian.core.audit import verify_chain


class Command(BaseCommand):
    help = "校验审计日志哈希链的完整性"

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"audit chain broken at entry {report.first_broken_id} "
                f"after {report.checked} good entries: {report.reason}"
            )
        self.stdout.write(f"audit chain intact: {report.checked} entries")
