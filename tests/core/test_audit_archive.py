"""Archiving audit entries past the retention period, and only those."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from sanlian.core import audit_guard
from sanlian.core.models import AuditEntry

from ..factories import audit_entry

pytestmark = pytest.mark.django_db


def _backdate(entry: AuditEntry, days: int) -> None:
    # Test set-up only: the guard refuses this UPDATE in normal operation.
    audit_guard.suspend(connection)
    AuditEntry.objects.filter(pk=entry.pk).update(at=timezone.now() - dt.timedelta(days=days))
    audit_guard.resume(connection)


def test_entries_past_retention_are_archived_and_removed(tmp_path: Path) -> None:
    old = audit_entry(object_repr="old")
    _backdate(old, 400)
    call_command("audit_archive", output=tmp_path / "a.jsonl")
    assert not AuditEntry.objects.filter(pk=old.pk).exists()


def test_archive_file_keeps_the_hashes(tmp_path: Path) -> None:
    old = audit_entry(object_repr="old")
    _backdate(old, 400)
    call_command("audit_archive", output=tmp_path / "a.jsonl")
    row = json.loads((tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert (row["id"], row["hash"]) == (old.pk, old.hash)


def test_young_entries_stay(tmp_path: Path) -> None:
    young = audit_entry(object_repr="young")
    call_command("audit_archive", output=tmp_path / "a.jsonl")
    assert AuditEntry.objects.filter(pk=young.pk).exists()


def test_retention_setting_is_never_below_180_days() -> None:
    from django.conf import settings

    assert settings.AUDIT_RETENTION_DAYS >= 180
