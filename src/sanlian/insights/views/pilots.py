"""The 试点评估 pages: the batches and the ranking of the next pilots; a batch with its
communities, indicators, values and the difference-in-differences evaluation."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sanlian.core.decorators import role_required
from sanlian.core.forms import add_service_errors
from sanlian.core.xlsx import export_response, wants_xlsx
from sanlian.organizations.models import Community

from ..forms import IndicatorForm, PilotBatchForm
from ..methods.pilots import tier_label
from ..models import Period, PilotBatch, PilotIndicator
from ..services import pilots as services
from ..services.common import ROLES


def _ranking_export(request: HttpRequest, ranking: Any) -> HttpResponse:
    return export_response(
        request,
        filename="next-pilots.xlsx",
        title=_("下一批试点建议"),
        headers=[_("排名"), _("社区"), _("分类"), _("得分"), _("需求"), _("基础条件"),
                 _("资源占比"), _("理由")],
        rows=([r.rank, r.label, r.tier, round(r.score, 4), round(r.need, 2),
               round(r.readiness, 3), round(r.resource_share, 6), "；".join(r.reasons)]
              for r in ranking),
        object_type="organizations.Community",
    )  # fmt: skip


@role_required(*ROLES)
def pilot_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    communities = Community.objects.visible_to(user).active().order_by("name")
    form = PilotBatchForm(request.POST or None, communities=communities)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = services.pilot_create(
                by=user,
                name=data["name"],
                starts_on=data["starts_on"],
                pilots=list(data["pilots"]),
                comparisons=list(data["comparisons"]),
                indicators=data["indicators"],
                note=data["note"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("试点批次已创建。"))
            return redirect(batch)
    ranking, ranking_error = services.rank_next_pilots(user)
    if wants_xlsx(request) and ranking is not None:
        return _ranking_export(request, ranking)
    context = {
        "batches": services.batches(user),
        "form": form,
        "ranking": ranking,
        "ranking_rows": [(r, tier_label(r.tier)) for r in ranking or []],
        "ranking_error": ranking_error,
    }
    return render(request, "insights/pilots/list.html", context)


def _batch(request: HttpRequest, pk: int) -> PilotBatch:
    return get_object_or_404(PilotBatch.objects.visible_to(request.user), pk=pk)


@role_required(*ROLES)
def pilot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    indicators = list(batch.indicators.all())
    communities = services.batch_communities(batch)
    evaluations = [
        (e, [(tier_label(t), r) for t, r in e.by_tier.items()])
        for e in (services.evaluate(i, communities=communities) for i in indicators)
    ]
    context = {
        "batch": batch,
        "pilots": [c for c, pilot in communities if pilot],
        "comparisons": [c for c, pilot in communities if not pilot],
        "evaluations": evaluations,
        "indicator_form": IndicatorForm(),
    }
    return render(request, "insights/pilots/detail.html", context)


@role_required(*ROLES)
@require_POST
def indicator_add(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    form = IndicatorForm(request.POST)
    if form.is_valid():
        try:
            services.indicator_add(by=request.user, batch=batch, **form.cleaned_data)  # type: ignore[arg-type]
            messages.success(request, _("指标已添加。"))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("请填写指标名称。"))
    return redirect(batch)


@role_required(*ROLES)
def values_edit(request: HttpRequest, pk: int, indicator_pk: int) -> HttpResponse:
    """Baseline and follow-up values of one indicator for every community of the batch; a
    bad number is shown beside its field and nothing is saved until all are right."""
    batch = _batch(request, pk)
    indicator = get_object_or_404(PilotIndicator, pk=indicator_pk, batch=batch)
    communities = services.batch_communities(batch)
    grid = services.value_grid(indicator)
    errors: dict[str, str] = {}
    posted: dict[str, str] = {}
    if request.method == "POST":
        values: dict[tuple[int, str], Decimal | None] = {}
        for c, _pilot in communities:
            for period in Period.values:
                key = f"v-{c.pk}-{period}"
                raw = posted[key] = request.POST.get(key, "").strip().replace(",", "")
                try:
                    values[(c.pk, period)] = Decimal(raw) if raw else None
                    if raw and not values[(c.pk, period)].is_finite():  # type: ignore[union-attr]
                        raise InvalidOperation
                except InvalidOperation:
                    errors[key] = _("“%(v)s”不是数字。") % {"v": raw[:20]}
        if not errors:
            try:
                n = services.values_save(indicator=indicator, by=request.user, values=values)  # type: ignore[arg-type]
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("已保存 %(n)d 项数值。") % {"n": n})
                return redirect(batch)
    rows = [
        (c, pilot, [(f"v-{c.pk}-{p}", posted.get(f"v-{c.pk}-{p}", grid.get((c.pk, p), "")),
                     errors.get(f"v-{c.pk}-{p}")) for p in Period.values])
        for c, pilot in communities
    ]  # fmt: skip
    context = {"batch": batch, "indicator": indicator, "rows": rows, "periods": Period.choices}
    return render(request, "insights/pilots/values.html", context, status=400 if errors else 200)
