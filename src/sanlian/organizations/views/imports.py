"""Pages of 组织联建: Excel import — templates, upload, progress, result and error report."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sanlian.core import audit
from sanlian.core.importing import template_bytes
from sanlian.core.models import AuditAction, TaskRun, TaskStatus
from sanlian.core.xlsx import XLSX_CONTENT_TYPE, attachment

from .. import importers
from ..forms.imports import ImportUploadForm
from .common import user_of


def _runs(request: HttpRequest) -> QuerySet[TaskRun]:
    return TaskRun.objects.visible_to(request.user).filter(name=importers.IMPORT_TASK)


@login_required
def import_home(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    specs = importers.kinds_for(user)
    if not specs:
        raise PermissionDenied
    kinds = [(s.kind, str(s.title)) for s in specs]
    form = ImportUploadForm(
        request.POST or None,
        request.FILES or None,
        kinds=kinds,
        initial={"kind": request.GET.get("kind", kinds[0][0])},
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        run = importers.import_start(
            by=user,
            kind=form.cleaned_data["kind"],
            source=upload,
            filename=upload.name or "",
            file_format=form.cleaned_data["format"],
        )
        return redirect("organizations:import_run", pk=run.pk)
    context = {
        "form": form,
        "specs": [(s, "、".join(c.header for c in s.columns if c.required)) for s in specs],
        "runs": _runs(request).order_by("-created_at")[:20],
        "titles": dict(kinds),
    }
    return render(request, "organizations/imports/home.html", context)


@login_required
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    spec = importers.spec_for(user_of(request), kind)
    return attachment(template_bytes(spec), _("%(title)s导入模板.xlsx") % {"title": spec.title})


@login_required
def import_run(request: HttpRequest, pk: str) -> HttpResponse:
    run = get_object_or_404(_runs(request), pk=pk)
    spec = importers.SPECS.get(run.params.get("kind", ""))
    context = {
        "run": run,
        "result": run.result if run.status == TaskStatus.DONE else {},
        "title": spec.title if spec is not None else "",
        "finished": run.status in (TaskStatus.DONE, TaskStatus.FAILED),
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "organizations/imports/run.html#status", context)
    return render(request, "organizations/imports/run.html", context)


@require_POST
@login_required
def import_retry(request: HttpRequest, pk: str) -> HttpResponse:
    run = get_object_or_404(_runs(request), pk=pk)
    if run.status == TaskStatus.FAILED:
        importers.import_retry(run=run)
        messages.info(request, _("已重新开始导入，将从中断处继续。"))
    return redirect("organizations:import_run", pk=run.pk)


@login_required
def import_errors(request: HttpRequest, pk: str) -> FileResponse:
    run = get_object_or_404(_runs(request), pk=pk)
    path = importers.error_report_path(run)
    if path is None:
        raise Http404
    # The report repeats the rows as uploaded (ID numbers in full): its download is audited.
    audit.record(
        AuditAction.EXPORT,
        object_type="core.TaskRun",
        object_id=str(run.pk),
        object_repr=_("导入错误报告"),
        changes={"rejected": run.result.get("rejected", 0)},
    )
    stem = Path(run.params.get("filename") or "import").stem
    return FileResponse(
        open(path, "rb"),  # FileResponse closes it
        as_attachment=True,
        filename=_("错误报告-%(name)s.xlsx") % {"name": stem},
        content_type=XLSX_CONTENT_TYPE,
    )
