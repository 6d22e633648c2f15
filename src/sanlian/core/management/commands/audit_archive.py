"""`sanlian audit_archive`: move audit entries past the retention period to a JSON Lines file.

Entries younger than AUDIT_RETENTION_DAYS (never under 180 days) stay; the database itself
refuses to delete younger ones. The archive keeps every field including the hashes, so the
chain can still be checked across the archive and the live table.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from sanlian.core.models import AuditEntry


class Command(BaseCommand):
    help = "将超过保存期的审计记录归档到文件并从数据库移除"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, help="archive file (default: data dir)")

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = timezone.now() - timedelta(days=settings.AUDIT_RETENTION_DAYS)
        output: Path = options["output"] or (
            settings.DATA_DIR / "audit-archive" / f"audit-before-{cutoff:%Y%m%d}.jsonl"
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        old = AuditEntry.objects.filter(at__lt=cutoff).order_by("id")
        with transaction.atomic():
            count = 0
            with output.open("a", encoding="utf-8") as fh:
                for e in old.iterator(chunk_size=2000):
                    row = {
                        "id": e.pk,
                        "at": e.at.isoformat(),
                        "actor": e.actor_id,
                        "actor_name": e.actor_name,
                        "action": e.action,
                        "object_type": e.object_type,
                        "object_id": e.object_id,
                        "object_repr": e.object_repr,
                        "ip": e.ip,
                        "changes": e.changes,
                        "prev_hash": e.prev_hash,
                        "hash": e.hash,
                    }
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                    count += 1
                fh.flush()
            # QuerySet.delete would call AuditEntry.delete per object; the raw delete is
            # still checked row by row by the database guard.
            old._raw_delete(old.db)
        self.stdout.write(f"archived={count} file={output}")
