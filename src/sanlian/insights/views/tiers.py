"""The 社区分类 pages: run an entropy-weight TOPSIS assessment, read its weights and each
community's score indicator by indicator, and accept or override the proposed tiers."""

from __future__ import annotations

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
from sanlian.organizations.models import Tier

from ..forms import TierAssessmentForm, TierDecisionForm
from ..models import TierAssessment, TierProposal
from ..services import tiers as services
from ..services.common import ROLES


@role_required(*ROLES)
def tier_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = TierAssessmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assessment = services.assessment_run(
                by=user,
                title=data["title"],
                keys=data["keys"],
                star_share=data["star_share"] / 100,
                weak_share=data["weak_share"] / 100,
                impute=data["impute"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("评估完成，请逐一确定各社区的分类。"))
            return redirect(assessment)
    assessments = TierAssessment.objects.visible_to(user).select_related("created_by")
    return render(
        request, "insights/tiers/list.html", {"form": form, "assessments": assessments[:50]}
    )


def _assessment(request: HttpRequest, pk: int) -> TierAssessment:
    return get_object_or_404(TierAssessment.objects.visible_to(request.user), pk=pk)


def _export(request: HttpRequest, assessment: TierAssessment, proposals: Any) -> HttpResponse:
    labels = [i["label"] for i in assessment.indicators]
    return export_response(
        request,
        filename=f"tiers-{assessment.pk}.xlsx",
        title=_("社区分类评估"),
        headers=[_("排名"), _("社区"), _("得分"), _("原分类"), _("建议分类"), _("确定分类"),
                 _("理由"), *labels],
        rows=([p.rank, p.community.name, p.score, p.get_tier_before_display(),
               p.get_proposed_tier_display(), p.get_decided_tier_display(), p.reason,
               *[t["raw"] for t in p.explanation]] for p in proposals),
        object_type="insights.TierProposal",
    )  # fmt: skip


@role_required(*ROLES)
def tier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = _assessment(request, pk)
    proposals = assessment.proposals.select_related("community", "decided_by")
    if wants_xlsx(request):
        return _export(request, assessment, proposals)
    weights = [(i["label"], assessment.weights.get(i["key"], {})) for i in assessment.indicators]
    chart = {
        "_kind": "bar",
        "horizontal": True,
        "categories": [label for label, _w in reversed(weights)],
        "series": [round(float(w.get("weight") or 0) * 100, 2) for _l, w in reversed(weights)],
    }
    counts = {t.value: 0 for t in Tier}
    for p in proposals:
        counts[p.proposed_tier] += 1
    context = {
        "assessment": assessment,
        "proposals": proposals,
        "weights": weights,
        "weight_chart": chart,
        "counts": [(t.label, counts[t.value]) for t in Tier],
        "decision_form": TierDecisionForm(),
        "pending": sum(1 for p in proposals if not p.decision),
    }
    return render(request, "insights/tiers/detail.html", context)


@role_required(*ROLES)
@require_POST
def proposal_decide(request: HttpRequest, pk: int, proposal_pk: int) -> HttpResponse:
    assessment = _assessment(request, pk)
    proposal = get_object_or_404(TierProposal, pk=proposal_pk, assessment=assessment)
    form = TierDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择分类。"))
        return redirect(assessment)
    try:
        services.proposal_decide(
            proposal=proposal,
            by=request.user,  # type: ignore[arg-type]
            tier=form.cleaned_data["tier"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        messages.error(request, f"{proposal.community.name}：{' '.join(exc.messages)}")
    else:
        messages.success(request, _("%(name)s 的分类已确定。") % {"name": proposal.community.name})
    return redirect(f"{assessment.get_absolute_url()}#p{proposal.pk}")
