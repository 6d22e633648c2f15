"""JSON API of 数据分析: fairness, tier assessments and decisions, allocation scenarios,
pilot batches with their values and evaluations, and the next pilots. Bodies are validated by
the forms of the pages; every id goes through visible_to() (outside the caller's scope: 404);
the roles are those of the pages (403 otherwise)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from sanlian.core.api import ErrorOut, form_data, form_errors
from sanlian.organizations.models import Community

from .forms import AllocationForm, PilotBatchForm, TierAssessmentForm, TierDecisionForm
from .methods.pilots import DidResult
from .models import (
    AllocationScenario,
    Period,
    PilotBatch,
    PilotIndicator,
    TierAssessment,
    TierProposal,
)
from .services import allocation as allocation_services
from .services import fairness as fairness_services
from .services import pilots as pilot_services
from .services import tiers as tier_services
from .services.common import ROLES

router = Router(tags=["数据分析"])


def _user(request: HttpRequest) -> Any:
    user = request.user
    if not user.has_role(*ROLES):  # type: ignore[union-attr]
        raise HttpError(403, _("无权使用数据分析"))
    return user


# ---- fairness ----------------------------------------------------------------------------------


class TierShareOut(Schema):
    tier: str
    label: str
    communities: int
    population: int
    total: Decimal
    per_capita: Decimal | None
    share: Decimal | None
    population_share: Decimal | None


class MeasuresOut(Schema):
    n: int
    gini: float
    theil: float
    theil_between_share: float | None
    hhi: float
    hhi_normalised: float
    top10_share: float
    lorenz: list[tuple[float, float]]


class AlertOut(Schema):
    kind: str
    message: str
    communities: list[str]


class FairnessOut(Schema):
    year: int
    basis: str
    measures: MeasuresOut | None
    error: str
    notes: list[str]
    tiers: list[TierShareOut]
    alerts: list[AlertOut]


@router.get("/insights/fairness", response=FairnessOut)
def fairness(request: HttpRequest, year: int | None = None, basis: str = "community") -> Any:
    """资源均衡: a year's resources over the communities in scope, by community or per
    resident (basis=resident), with Gini, Theil (and its between-tier share), HHI, top-10 %
    share, the Lorenz curve and the alerts."""
    user = _user(request)
    if basis not in (fairness_services.PER_COMMUNITY, fairness_services.PER_RESIDENT):
        raise HttpError(400, _("basis 只能是 community 或 resident"))
    report = fairness_services.fairness_report(
        user, year=year or timezone.localdate().year, basis=basis
    )
    o, m = report.overview, report.measures
    return {
        "year": o.year,
        "basis": basis,
        "measures": None
        if m is None
        else {
            "n": m.n,
            "gini": m.gini,
            "theil": m.theil,
            "theil_between_share": m.decomposition.between_share if m.decomposition else None,
            "hhi": m.hhi,
            "hhi_normalised": m.hhi_normalised,
            "top10_share": m.top10_share,
            "lorenz": list(m.lorenz),
        },
        "error": report.error,
        "notes": report.notes,
        "tiers": [
            {
                "tier": t.tier,
                "label": t.label,
                "communities": t.communities,
                "population": t.population,
                "total": t.total,
                "per_capita": t.per_capita,
                "share": o.share_of(t),
                "population_share": o.population_share_of(t),
            }
            for t in o.tiers
        ],
        "alerts": [
            {"kind": a.kind, "message": a.message, "communities": [n for n, _d in a.communities]}
            for a in report.alerts
        ],
    }


# ---- tiers -------------------------------------------------------------------------------------


class ProposalOut(Schema):
    id: int
    community_id: int
    community_name: str
    score: Decimal
    rank: int
    tier_before: str
    proposed_tier: str
    decision: str
    decided_tier: str
    reason: str
    explanation: list[dict[str, Any]]


class AssessmentOut(Schema):
    id: int
    title: str
    created_at: dt.datetime
    indicators: list[dict[str, Any]]
    weights: dict[str, Any]
    notes: list[str]
    star_from: Decimal
    weak_below: Decimal


class AssessmentDetailOut(AssessmentOut):
    proposals: list[ProposalOut]


class AssessmentIn(Schema):
    title: str = ""
    keys: list[str]
    star_share: Decimal = Decimal(15)
    weak_share: Decimal = Decimal(25)
    impute: bool = True


class DecisionIn(Schema):
    tier: str
    reason: str = ""


def _proposal(p: TierProposal) -> dict[str, Any]:
    return {
        "id": p.pk, "community_id": p.community_id, "community_name": p.community.name,
        "score": p.score, "rank": p.rank, "tier_before": p.tier_before,
        "proposed_tier": p.proposed_tier, "decision": p.decision,
        "decided_tier": p.decided_tier, "reason": p.reason, "explanation": p.explanation,
    }  # fmt: skip


@router.get("/insights/tier-assessments", response=list[AssessmentOut])
def tier_assessments(request: HttpRequest) -> Any:
    return TierAssessment.objects.visible_to(_user(request))[:100]


@router.get("/insights/tier-assessments/{assessment_id}", response=AssessmentDetailOut)
def tier_assessment(request: HttpRequest, assessment_id: int) -> Any:
    a = get_object_or_404(TierAssessment.objects.visible_to(_user(request)), pk=assessment_id)
    proposals = [_proposal(p) for p in a.proposals.select_related("community")]
    return {**AssessmentOut.from_orm(a).dict(), "proposals": proposals}


@router.post("/insights/tier-assessments", response={201: AssessmentOut, 400: ErrorOut})
def tier_assessment_run(request: HttpRequest, payload: AssessmentIn) -> Any:
    """Runs entropy-weight TOPSIS over the communities of the caller's area (shares in %)."""
    user = _user(request)
    form = TierAssessmentForm(form_data(payload.dict() | {"impute": payload.impute or None}))
    if not form.is_valid():
        return form_errors(form)
    d = form.cleaned_data
    try:
        a = tier_services.assessment_run(
            by=user, title=d["title"], keys=d["keys"], star_share=d["star_share"] / 100,
            weak_share=d["weak_share"] / 100, impute=d["impute"],
        )  # fmt: skip
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, a)


@router.post(
    "/insights/tier-proposals/{proposal_id}/decide", response={200: ProposalOut, 400: ErrorOut}
)
def tier_decide(request: HttpRequest, proposal_id: int, payload: DecisionIn) -> Any:
    """Accepts the proposed tier (the same tier) or overrides it (another tier, with a reason)."""
    user = _user(request)
    proposal = get_object_or_404(
        TierProposal.objects.visible_to(user).select_related("community"), pk=proposal_id
    )
    form = TierDecisionForm(form_data(payload.dict()))
    if not form.is_valid():
        return form_errors(form)
    try:
        p = tier_services.proposal_decide(
            proposal=proposal, by=user, tier=form.cleaned_data["tier"],
            reason=form.cleaned_data["reason"],
        )  # fmt: skip
    except ValidationError as exc:
        return form_errors(exc)
    p.refresh_from_db()
    return _proposal(p)


# ---- allocation --------------------------------------------------------------------------------


class ScenarioOut(Schema):
    id: int
    name: str
    call_id: int
    budget: Decimal
    max_community_share: Decimal | None
    weak_floor: Decimal | None
    max_per_org: Decimal | None
    must_fund: list[int]
    must_not_fund: list[int]
    result: dict[str, Any]
    created_at: dt.datetime


class ScenarioIn(Schema):
    call_id: int
    name: str = ""
    budget: Decimal
    max_community_share: Decimal | None = None
    weak_floor: Decimal | None = None
    max_per_org: Decimal | None = None
    must_fund: list[int] = []
    must_not_fund: list[int] = []


@router.get("/insights/allocation-scenarios", response=list[ScenarioOut])
def scenarios(request: HttpRequest, call_id: int | None = None) -> Any:
    qs = AllocationScenario.objects.visible_to(_user(request))
    return (qs.filter(call_id=call_id) if call_id else qs)[:100]


@router.get("/insights/allocation-scenarios/{scenario_id}", response=ScenarioOut)
def scenario(request: HttpRequest, scenario_id: int) -> Any:
    return get_object_or_404(AllocationScenario.objects.visible_to(_user(request)), pk=scenario_id)


@router.post("/insights/allocation-scenarios", response={201: ScenarioOut, 400: ErrorOut})
def scenario_run(request: HttpRequest, payload: ScenarioIn) -> Any:
    """Solves a scenario exactly (HiGHS) with its baselines and saves it; shares in %.
    Contradictory rules are saved too, their explanation in result.error and result.details."""
    user = _user(request)
    calls = allocation_services.calls(user)
    get_object_or_404(calls, pk=payload.call_id)
    data = payload.dict()
    data["call"] = data.pop("call_id")
    data["must_fund"] = ",".join(str(i) for i in payload.must_fund)
    data["must_not_fund"] = ",".join(str(i) for i in payload.must_not_fund)
    form = AllocationForm(form_data(data), calls=calls)
    if not form.is_valid():
        return form_errors(form)
    d = form.cleaned_data
    try:
        s = allocation_services.scenario_run(
            by=user, call=d["call"], name=d["name"], budget=d["budget"],
            max_community_share=d["max_community_share"], weak_floor=d["weak_floor"],
            max_per_org=d["max_per_org"], must_fund=d["must_fund"], must_not_fund=d["must_not_fund"],
        )  # fmt: skip
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, s)


# ---- pilots ------------------------------------------------------------------------------------


class IndicatorOut(Schema):
    id: int
    name: str
    unit: str
    higher_is_better: bool


class BatchOut(Schema):
    id: int
    name: str
    starts_on: dt.date
    note: str
    pilot_ids: list[int]
    comparison_ids: list[int]
    indicators: list[IndicatorOut]


class EffectOut(Schema):
    effect: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    n_pilot: int | None = None
    n_comparison: int | None = None
    means: dict[str, float] | None = None
    notes: list[str] = []
    error: str = ""


class EvaluationOut(Schema):
    indicator_id: int
    overall: EffectOut
    by_tier: dict[str, EffectOut]


class BatchDetailOut(BatchOut):
    evaluations: list[EvaluationOut]


class BatchIn(Schema):
    name: str
    starts_on: dt.date
    pilot_ids: list[int]
    comparison_ids: list[int] = []
    indicators: list[IndicatorOut | dict[str, Any]] = []
    note: str = ""


class ValueIn(Schema):
    community_id: int
    period: str
    value: Decimal | None


def _batch(b: PilotBatch) -> dict[str, Any]:
    return {
        "id": b.pk, "name": b.name, "starts_on": b.starts_on, "note": b.note,
        "pilot_ids": sorted(c.pk for c in b.pilots.all()),
        "comparison_ids": sorted(c.pk for c in b.comparisons.all()),
        "indicators": list(b.indicators.all()),
    }  # fmt: skip


def _effect(r: Any) -> dict[str, Any]:
    if not isinstance(r, DidResult):
        return {"error": getattr(r, "message", str(r))}
    m = r.means
    return {
        "effect": r.effect, "ci_low": r.ci_low, "ci_high": r.ci_high, "p_value": r.p_value,
        "n_pilot": r.n_pilot, "n_comparison": r.n_comparison, "notes": list(r.notes),
        "means": {"pilot_baseline": m.pilot_baseline, "pilot_follow_up": m.pilot_follow_up,
                  "comparison_baseline": m.comparison_baseline,
                  "comparison_follow_up": m.comparison_follow_up},
    }  # fmt: skip


@router.get("/insights/pilots", response=list[BatchOut])
def pilot_batches(request: HttpRequest) -> Any:
    batches = PilotBatch.objects.visible_to(_user(request)).prefetch_related(
        "pilots", "comparisons", "indicators"
    )
    return [_batch(b) for b in batches[:100]]


@router.get("/insights/pilots/{batch_id}", response=BatchDetailOut)
def pilot_batch(request: HttpRequest, batch_id: int) -> Any:
    """The batch and, per indicator, the DiD effect with its confidence interval, overall and
    by tier (a tier that cannot be estimated carries its Chinese explanation in `error`)."""
    b = get_object_or_404(PilotBatch.objects.visible_to(_user(request)), pk=batch_id)
    evaluations = []
    communities = pilot_services.batch_communities(b)
    for indicator in b.indicators.all():
        e = pilot_services.evaluate(indicator, communities=communities)
        overall = _effect(e.overall) if e.overall else {"error": e.error, "notes": e.details}
        evaluations.append(
            {"indicator_id": indicator.pk, "overall": overall,
             "by_tier": {t: _effect(r) for t, r in e.by_tier.items()}}
        )  # fmt: skip
    return {**_batch(b), "evaluations": evaluations}


@router.post("/insights/pilots", response={201: BatchOut, 400: ErrorOut})
def pilot_create(request: HttpRequest, payload: BatchIn) -> Any:
    user = _user(request)
    communities = Community.objects.visible_to(user).active()
    lines = []
    for i in payload.indicators:
        item = i if isinstance(i, dict) else i.dict()
        lower = "" if item.get("higher_is_better", True) else ",越低越好"
        lines.append(f"{item.get('name', '')},{item.get('unit', '')}{lower}")
    data = {
        "name": payload.name, "starts_on": payload.starts_on, "pilots": payload.pilot_ids,
        "comparisons": payload.comparison_ids, "indicators": "\n".join(lines), "note": payload.note,
    }  # fmt: skip
    form = PilotBatchForm(form_data(data), communities=communities)
    if not form.is_valid():
        return form_errors(form)
    d = form.cleaned_data
    try:
        b = pilot_services.pilot_create(
            by=user, name=d["name"], starts_on=d["starts_on"], pilots=list(d["pilots"]),
            comparisons=list(d["comparisons"]), indicators=d["indicators"], note=d["note"],
        )  # fmt: skip
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, _batch(b))


@router.put(
    "/insights/pilots/{batch_id}/indicators/{indicator_id}/values",
    response={200: dict[str, int], 400: ErrorOut},
)
def pilot_values(
    request: HttpRequest, batch_id: int, indicator_id: int, payload: list[ValueIn]
) -> Any:
    """Baseline and follow-up values (period baseline|follow_up; value null clears); all or
    nothing."""
    user = _user(request)
    b = get_object_or_404(PilotBatch.objects.visible_to(user), pk=batch_id)
    indicator = get_object_or_404(PilotIndicator, pk=indicator_id, batch=b)
    bad = [v.period for v in payload if v.period not in Period.values]
    if bad:
        return form_errors(ValidationError({"period": [_("期次只能是 baseline 或 follow_up。")]}))
    try:
        n = pilot_services.values_save(
            indicator=indicator, by=user,
            values={(v.community_id, v.period): v.value for v in payload},
        )  # fmt: skip
    except ValidationError as exc:
        return form_errors(exc)
    return {"saved": n}


class RankedOut(Schema):
    rank: int
    community_id: int
    label: str
    tier: str
    score: float
    need: float
    readiness: float
    resource_share: float
    reasons: list[str]


@router.get("/insights/next-pilots", response=list[RankedOut])
def next_pilots(request: HttpRequest, limit: int = 30) -> Any:
    """The communities in scope not yet in a pilot, ranked by need, readiness and low
    resource share, favouring weak and ordinary communities, with the reasons."""
    ranking, error = pilot_services.rank_next_pilots(_user(request), limit=min(limit, 200))
    if ranking is None:
        raise HttpError(400, error)
    return [
        {"rank": r.rank, "community_id": r.community_id, "label": r.label, "tier": r.tier,
         "score": r.score, "need": r.need, "readiness": r.readiness,
         "resource_share": r.resource_share, "reasons": list(r.reasons)}
        for r in ranking
    ]  # fmt: skip


__all__ = ["router"]


# ---- dashboards and the project report ---------------------------------------------------------


@router.get("/insights/dashboard", response=dict[str, Any])
def dashboard(request: HttpRequest, area: int | None = None, live: bool = False) -> Any:
    """The dashboard of an area in scope (default: the caller's own), as on the page: each
    section's headline figures and tables (key, title, headers, rows, note). The figures are
    the area's background snapshot when there is one (`freshness`), else computed now;
    `live=true` computes them now."""
    # The tables are shaped once, by the page's own presenter, so page and API agree.
    from .services import dashboard as dashboard_services
    from .services import snapshots
    from .views.dashboard import sections

    user = request.user
    if not user.has_role(*dashboard_services.ROLES):  # type: ignore[union-attr]
        raise HttpError(403, _("无权查看数据看板"))
    found = dashboard_services.area_for(user, area)
    if found is None:
        raise HttpError(404, "Not Found")
    d = snapshots.dashboard_for(user, found, live=live)
    return {
        "area": {"id": found.node.id, "name": found.node.name},
        "as_of": d.as_of,
        "freshness": {
            "snapshot": d.freshness.snapshot,
            "stale": d.freshness.stale,
            "refresh_minutes": d.freshness.max_age,
        },
        "sections": [
            {
                "key": s.key,
                "title": s.title,
                "stats": [
                    {"label": st.label, "value": st.value, "note": st.note} for st in s.stats
                ],
                "tables": [
                    {
                        "key": p.table.key,
                        "title": p.table.title,
                        "headers": list(p.table.headers),
                        "rows": [list(r) for r in p.table.rows],
                        "note": p.table.note,
                    }
                    for p in s.panels
                ],
            }
            for s in sections(d)
        ],
    }


@router.get("/insights/projects/{project_id}/report", response=dict[str, Any])
def project_report(request: HttpRequest, project_id: int) -> Any:
    """The evaluation report of a project the caller can see: identity, indicator attainment,
    beneficiaries and service volume, pre/post change of its groups, satisfaction, spend and
    cost per beneficiary, milestones; a figure the records cannot give carries its reason."""
    import dataclasses

    from sanlian.resources.models import ServiceProject

    from .services.report import project_report as build

    project = get_object_or_404(
        ServiceProject.objects.visible_to(request.user).select_related(
            "pool__owner", "organization"
        ),
        pk=project_id,
    )
    return dataclasses.asdict(build(project))
