"""API for the Excel import: upload a file (multipart), follow its run, fetch its error report."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import File, Form, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from sanlian.core import audit
from sanlian.core.api import ErrorOut
from sanlian.core.models import AuditAction, TaskRun, TaskStatus
from sanlian.core.xlsx import XLSX_CONTENT_TYPE

from .. import importers
from ..forms.imports import ImportUploadForm

router = Router()


class ImportStartedOut(Schema):
    id: uuid.UUID
    status_url: str


class ImportRunOut(Schema):
    id: uuid.UUID
    kind: str
    filename: str
    status: str
    progress: int
    total: int
    percent: int
    message: str
    imported: int | None = None
    updated: int | None = None
    rejected: int | None = None
    file_error: str = ""
    error_report_url: str | None = None


def _run(request: HttpRequest, run_id: uuid.UUID) -> TaskRun:
    runs = TaskRun.objects.visible_to(request.user).filter(name=importers.IMPORT_TASK)
    return get_object_or_404(runs, pk=run_id)


@router.post("/imports", response={201: ImportStartedOut, 400: ErrorOut})
def import_upload(request: HttpRequest, kind: Form[str], file: File[UploadedFile]) -> Any:
    """Start an import of `kind` (people, organizations, social_workers, volunteers); the
    file is imported in the background: follow it at `status_url`."""
    user: Any = request.user
    specs = importers.kinds_for(user)
    if not specs:
        raise HttpError(403, "无权导入数据")
    form = ImportUploadForm(
        data={"kind": kind}, files={"file": file}, kinds=[(s.kind, str(s.title)) for s in specs]
    )
    if not form.is_valid():
        return Status(400, {"detail": {k: [str(m) for m in v] for k, v in form.errors.items()}})
    run = importers.import_start(
        by=user,
        kind=form.cleaned_data["kind"],
        source=file,
        filename=file.name or "",
        file_format=form.cleaned_data["format"],
    )
    url = reverse("api:import_status", kwargs={"run_id": run.pk})
    return Status(201, {"id": run.pk, "status_url": url})


@router.get("/imports/{run_id}", response=ImportRunOut, url_name="import_status")
def import_status(request: HttpRequest, run_id: uuid.UUID) -> dict[str, Any]:
    run = _run(request, run_id)
    result = run.result if run.status == TaskStatus.DONE else {}
    report = importers.error_report_path(run)
    return {
        "id": run.pk,
        "kind": run.params.get("kind", ""),
        "filename": run.params.get("filename", ""),
        "status": run.status,
        "progress": run.progress,
        "total": run.total,
        "percent": run.percent,
        "message": run.message,
        "imported": result.get("imported"),
        "updated": result.get("updated"),
        "rejected": result.get("rejected"),
        "file_error": result.get("file_error", ""),
        "error_report_url": reverse("api:import_error_report", kwargs={"run_id": run.pk})
        if report is not None
        else None,
    }


@router.get("/imports/{run_id}/errors", url_name="import_error_report")
def import_error_report(request: HttpRequest, run_id: uuid.UUID) -> FileResponse:
    """The rejected rows (行号, 列, 原值, 原因 and the row as uploaded) as xlsx."""
    run = _run(request, run_id)
    path = importers.error_report_path(run)
    if path is None:
        raise Http404
    audit.record(
        AuditAction.EXPORT,
        object_type="core.TaskRun",
        object_id=str(run.pk),
        object_repr="导入错误报告",
        changes={"rejected": run.result.get("rejected", 0)},
    )
    return FileResponse(
        open(path, "rb"),  # FileResponse closes it
        as_attachment=True,
        filename=f"import-errors-{run.pk}.xlsx",
        content_type=XLSX_CONTENT_TYPE,
    )
