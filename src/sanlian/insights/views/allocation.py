"""The 预算分配 pages: a scenario's rules, the funded set chosen exactly by HiGHS beside the
two baselines with their fairness figures, and the saved scenarios of a call side by side."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from sanlian.core.decorators import role_required
from sanlian.core.forms import add_service_errors
from sanlian.organizations.models import Tier
from sanlian.resources.models import Application

from ..forms import AllocationForm
from ..models import AllocationScenario
from ..services import allocation as services
from ..services.common import ROLES


@role_required(*ROLES)
def allocation_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = AllocationForm(request.POST or None, calls=services.calls(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            scenario = services.scenario_run(
                by=user,
                call=data["call"],
                name=data["name"],
                budget=data["budget"],
                max_community_share=data["max_community_share"],
                weak_floor=data["weak_floor"],
                max_per_org=data["max_per_org"],
                must_fund=data["must_fund"],
                must_not_fund=data["must_not_fund"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if scenario.result.get("error"):
                messages.warning(request, _("规则之间有冲突，见方案说明。"))
            else:
                messages.success(request, _("已求得最优方案。"))
            return redirect(scenario)
    scenarios = AllocationScenario.objects.visible_to(user).select_related("call")[:50]
    return render(request, "insights/allocation/list.html", {"form": form, "scenarios": scenarios})


def _column(title: str, summary: dict[str, Any] | None) -> dict[str, Any]:
    tiers = (summary or {}).get("tiers", {})
    return {
        "title": title,
        "s": summary,
        "tiers": [(str(t.label), tiers.get(t.value)) for t in Tier],
    }


@role_required(*ROLES)
def allocation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scenario = get_object_or_404(
        AllocationScenario.objects.visible_to(request.user).select_related("call"), pk=pk
    )
    result = scenario.result
    solved = result.get("solved")
    chosen = (
        Application.objects.filter(pk__in=solved["chosen"])
        .select_related("organization")
        .prefetch_related("communities")
        .order_by("-average_score", "pk")
        if solved
        else Application.objects.none()
    )
    columns = [
        _column(_("最优方案"), solved),
        _column(_("按评审得分排序"), result.get("by_review")),
        _column(_("去年实际"), result.get("last_year")),
    ]
    others = AllocationScenario.objects.visible_to(request.user).filter(call=scenario.call)
    context = {
        "scenario": scenario,
        "result": result,
        "solved": solved,
        "chosen": chosen,
        "columns": columns,
        "others": others,
    }
    return render(request, "insights/allocation/detail.html", context)
