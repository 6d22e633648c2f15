"""项目评估报告: a project's report as a page (with print styles), a PDF (WeasyPrint) or a
workbook with one sheet per section. Whoever sees the project sees its report."""

from __future__ import annotations

import io
import mimetypes
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlsplit

from csp.constants import NONCE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from sanlian.core import audit
from sanlian.core.models import AuditAction
from sanlian.core.xlsx import attachment, safe_cell, wants_xlsx
from sanlian.resources.models import ServiceProject

from ..services import report as services

TEMPLATE = "insights/report/project.html"
PDF_CONTENT_TYPE = "application/pdf"


def _missing(reason: str) -> str:
    return _("暂无（%(reason)s）") % {"reason": reason}


def _value(figure: services.Figure) -> Decimal | str:
    return figure.value if figure.value is not None else _missing(figure.reason)


def _or_missing(value: Any, reason: str) -> Any:
    return value if value is not None else _missing(reason)


# ---- the workbook: one sheet per section ------------------------------------------------------


def _sheet(wb: Workbook, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    ws = wb.create_sheet(title=title[:31])
    for n in range(1, len(headers) + 1):  # before the rows: a write-only sheet streams them
        ws.column_dimensions[get_column_letter(n)].width = 26 if n <= 2 else 16
    bold = Font(bold=True)
    cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=safe_cell(str(h)))
        cell.font = bold
        cells.append(cell)
    ws.append(cells)
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    return len(rows)


def _workbook(report: services.ProjectReport) -> tuple[bytes, dict[str, int]]:
    i, o, s = report.identity, report.outputs, report.spend
    sheets: dict[str, tuple[list[str], list[list[Any]]]] = {}
    sheets[_("项目概况")] = (
        [_("项目"), _("内容")],
        [
            [_("项目名称"), i.title],
            [_("合同编号"), i.contract_number],
            [_("承接机构"), i.organization],
            [_("资金来源"), f"{i.funder} · {i.pool}"],
            [_("服务社区"), "、".join(i.communities)],
            [_("服务期起"), i.starts_on],
            [_("服务期止"), i.ends_on],
            [_("签约日期"), _or_missing(i.signed_on, _("尚未签约"))],
            [_("合同金额（元）"), i.amount],
            [_("状态"), i.status_label],
            [_("报告生成时间"), report.generated_at],
        ],
    )
    sheets[_("指标完成")] = (
        [_("类别"), _("指标"), _("统计口径"), _("目标值"), _("完成值"), _("单位"),
         _("数据来源"), _("完成率（%）"), _("是否达标")],
        [
            [r.kind, r.name, r.metric, r.target, _or_missing(r.actual, r.source), r.unit,
             r.source, _or_missing(r.percent, r.source), _("是") if r.met else _("否")]
            for r in report.indicators
        ]
        or [[_missing(report.indicators_missing)]],
    )  # fmt: skip
    sheets[_("服务对象与服务量")] = (
        [_("项目"), _("数值"), _("说明")],
        [
            [_("服务对象（去重）"), _value(o.beneficiaries), _("一人参与多项服务只计一次")],
            *[[_("其中：%(part)s") % {"part": p.label}, p.count, _("该项服务的人数")]
              for p in o.by_part],
            [_("个案（已接案）"), o.cases, ""],
            [_("小组"), o.groups, ""],
            [_("小组节次（已开展）"), o.group_sessions, ""],
            [_("社区活动（已完成）"), o.activities, ""],
            [_("活动签到人次"), o.checked_in, ""],
            *[[_("服务时长：%(part)s") % {"part": t.label}, t.hours,
               _("%(n)d 次，工作时间外 %(out)s 小时") % {"n": t.services, "out": t.hours_outside}]
              for t in o.times],
            [_("工作时间外服务占比（%）"), _value(o.share_outside), _("周一至周五 8:30—17:30 以外")],
        ],
    )  # fmt: skip
    group_rows: list[list[Any]] = []
    for g in report.groups:
        summary = g.summary
        group_rows.append(
            [g.name, _("小组汇总"), summary.mean_pre, summary.mean_post,
             _or_missing(summary.mean_change, g.missing),
             _("%(n)d 人配对；改善 %(up)d，不变 %(same)d，变差 %(down)d")
             % {"n": summary.n, "up": summary.improved, "same": summary.unchanged,
                "down": summary.worsened}]
        )  # fmt: skip
        for m in g.members:
            group_rows.append([g.name, m.label, m.pre, m.post, m.change, ""])
    sheets[_("小组前后测")] = (
        [_("小组"), _("组员"), _("前测"), _("后测"), _("变化（后测−前测）"), _("说明")],
        group_rows or [[_missing(report.groups_missing)]],
    )
    sheets[_("满意度")] = (
        [_("来源"), _("口径"), _("评价数"), _("平均分（1—5）"), _("满意率（%，4—5 分）")],
        [
            [src.label, src.basis, src.n, _value(src.mean), _value(src.satisfied_share)]
            for src in report.satisfaction.sources
        ],
    )
    sheets[_("资金使用")] = (
        [_("项目"), _("金额（元）"), _("说明")],
        [
            [_("合同金额"), s.amount, ""],
            [_("已拨付"), s.disbursed, _("占合同金额 %(p)s%%") % {"p": s.disbursed_share}],
            [_("未拨付"), s.remaining, ""],
            [_("审批中"), s.in_flight, _("已申请、尚未拨付")],
            [_("人均成本（按已拨付）"), _value(s.cost_per_beneficiary), _("已拨付 ÷ 服务对象")],
            [_("人均成本（按合同金额）"), _value(s.contract_per_beneficiary),
             _("合同金额 ÷ 服务对象")],
            *[[_("拨付：%(t)s") % {"t": p.tranche}, p.amount, p.paid_on] for p in s.payments],
        ],
    )  # fmt: skip
    sheets[_("项目节点")] = (
        [_("序号"), _("节点"), _("计划完成日期"), _("状态"), _("提交日期"), _("验收日期"),
         _("验收意见"), _("对应拨付（元）")],
        [
            [m.seq, m.title, m.due_on, m.status_label + (_("（已逾期）") if m.overdue else ""),
             m.reported_on, m.reviewed_on, m.review_note, m.tranche_amount]
            for m in report.milestones
        ]
        or [[_missing(report.milestones_missing)]],
    )  # fmt: skip
    wb = Workbook(write_only=True)
    counts = {title: _sheet(wb, title, headers, rows) for title, (headers, rows) in sheets.items()}
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), counts


# ---- the PDF -----------------------------------------------------------------------------------


def _static_only(weasyprint_urls: Any) -> Any:
    """WeasyPrint's fetcher: the site's own static files from disk, nothing else (no request
    leaves the server while a PDF is drawn)."""

    class StaticOnly(weasyprint_urls.URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            path = unquote(urlsplit(url).path)
            prefix = str(settings.STATIC_URL)
            name = path.split(prefix, 1)[1] if prefix in path else ""
            found = finders.find(name) if name else None
            if isinstance(found, str):
                with open(found, "rb") as f:
                    body = f.read()
            elif name and staticfiles_storage.exists(name):
                with staticfiles_storage.open(name) as f:
                    body = f.read()
            else:
                raise ValueError(f"not fetched while drawing a PDF: {url}")
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return weasyprint_urls.URLFetcherResponse(url, body, {"Content-Type": kind})

    return StaticOnly()


def _pdf(
    request: HttpRequest, project: ServiceProject, report: services.ProjectReport
) -> HttpResponse:
    try:
        from weasyprint import HTML
        from weasyprint import urls as weasyprint_urls
    except (ImportError, OSError):
        # OSError: WeasyPrint is installed but Pango (a system library) is not.
        return render(
            request,
            TEMPLATE,
            {
                "report": report,
                "pdf_error": _(
                    "PDF 导出暂不可用：服务器缺少排版组件，请先使用“导出 Excel”或浏览器打印。"
                ),
            },
            status=503,
        )
    html = render_to_string(TEMPLATE, {"report": report, "for_pdf": True}, request=request)
    content = HTML(
        string=html,
        base_url=request.build_absolute_uri("/"),
        url_fetcher=_static_only(weasyprint_urls),
    ).write_pdf()
    filename = _("项目评估报告-%(number)s.pdf") % {"number": project.contract_number}
    audit.record(
        AuditAction.EXPORT,
        obj=project,
        object_repr=filename,
        changes={"report": "project", "format": "pdf", "bytes": len(content)},
    )
    return attachment(content, filename, PDF_CONTENT_TYPE)


def _xlsx(
    request: HttpRequest, project: ServiceProject, report: services.ProjectReport
) -> HttpResponse:
    content, counts = _workbook(report)
    filename = _("项目评估报告-%(number)s.xlsx") % {"number": project.contract_number}
    audit.record(
        AuditAction.EXPORT,
        obj=project,
        object_repr=filename,
        changes={"report": "project", "format": "xlsx", "rows": counts},
    )
    return attachment(content, filename)


# The page carries its own print stylesheet (@page A4), allowed by the request's nonce.
@csp_update({"style-src": [NONCE]})  # type: ignore[arg-type]  # typed for views without args
@login_required
def project_report(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_object_or_404(
        ServiceProject.objects.visible_to(request.user).select_related(
            "pool__owner", "organization"
        ),
        pk=pk,
    )
    report = services.project_report(project)
    if request.GET.get("format") == "pdf":
        return _pdf(request, project, report)
    if wants_xlsx(request):
        return _xlsx(request, project, report)
    return render(request, TEMPLATE, {"report": report})
