"""The 资源均衡 page: a year's resources over the communities in scope, the inequality
measures with the Lorenz curve, the split between and within tiers, and the area's alerts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from sanlian.core.decorators import role_required
from sanlian.core.xlsx import export_response, wants_xlsx
from sanlian.organizations.models import Tier

from ..forms import FairnessFilterForm, FairnessSettingsForm
from ..services import fairness as services
from ..services.common import ROLES
from ..services.settings import fairness_settings_save


def _lorenz_chart(report: services.FairnessReport) -> dict[str, Any] | None:
    if report.measures is None:
        return None
    points = [[round(x * 100, 2), round(y * 100, 2)] for x, y in report.measures.lorenz]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 12, "right": 16, "top": 36, "bottom": 8},
        "xAxis": {"type": "value", "min": 0, "max": 100, "name": _("人口累计（%）")
                  if report.basis == services.PER_RESIDENT else _("社区累计（%）")},
        "yAxis": {"type": "value", "min": 0, "max": 100, "name": _("资源累计（%）")},
        "series": [
            {"type": "line", "name": _("洛伦兹曲线"), "data": points, "showSymbol": False},
            {"type": "line", "name": _("绝对平均线"), "data": [[0, 0], [100, 100]],
             "showSymbol": False, "lineStyle": {"type": "dashed"}},
        ],
    }  # fmt: skip


def _export(request: HttpRequest, report: services.FairnessReport) -> HttpResponse:
    rows = [r for r in report.overview.rows if r.community is not None]
    return export_response(
        request,
        filename=f"fairness-{report.overview.year}.xlsx",
        title=_("资源均衡"),
        headers=[_("社区"), _("分类"), _("常住人口"), _("资源合计（元）"), _("人均（元）")],
        rows=(
            [r.label, str(Tier(r.tier).label), r.population, r.total, r.per_capita] for r in rows
        ),
        object_type="resources.ResourceEntry",
    )


def _lorenz_rows(report: services.FairnessReport) -> list[tuple[Decimal, Decimal]]:
    """The curve at every tenth of the units (or residents), for the table beside the chart."""
    if report.measures is None:
        return []
    xs = [x for x, _y in report.measures.lorenz]
    ys = [y for _x, y in report.measures.lorenz]
    out = []
    for tenth in range(1, 11):
        at = tenth / 10
        out.append(
            (Decimal(tenth * 10), Decimal(str(round(float(np.interp(at, xs, ys)) * 100, 1))))
        )
    return out


@role_required(*ROLES)
def fairness_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = FairnessFilterForm(request.GET or None)
    year, basis = timezone.localdate().year, services.PER_COMMUNITY
    if form.is_valid():
        year = form.cleaned_data["year"]
        basis = form.cleaned_data["basis"] or services.PER_COMMUNITY
    report = services.fairness_report(user, year=year, basis=basis)
    if wants_xlsx(request):
        return _export(request, report)
    overview = report.overview
    context = {
        "form": form,
        "report": report,
        "m": report.measures,
        "lorenz_chart": _lorenz_chart(report),
        "lorenz_rows": _lorenz_rows(report),
        "tier_rows": [
            (t, overview.share_of(t), overview.population_share_of(t)) for t in overview.tiers
        ],
        "settings_form": FairnessSettingsForm(
            initial={
                "star_share_alert": (report.settings.star_share_alert * 100).quantize(
                    Decimal("0.1")
                ),
                "weak_idle_days": report.settings.weak_idle_days,
            }
        )
        if report.settings
        else None,
    }
    return render(request, "insights/fairness/page.html", context)


@role_required(*ROLES)
def fairness_settings(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("insights:fairness")
    form = FairnessSettingsForm(request.POST)
    if form.is_valid():
        fairness_settings_save(
            by=request.user,  # type: ignore[arg-type]
            star_share_alert=form.cleaned_data["star_share_alert"] / 100,
            weak_idle_days=form.cleaned_data["weak_idle_days"],
        )
        messages.success(request, _("预警设置已保存。"))
    else:
        for e in form.errors.get("star_share_alert", []) + form.errors.get("weak_idle_days", []):
            messages.error(request, str(e))
    return redirect("insights:fairness")
