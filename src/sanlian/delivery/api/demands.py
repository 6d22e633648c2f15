"""JSON API of residents' demands (诉求): list, detail with the timeline, staff intake, the
lifecycle steps, the routing suggestion and the routing rules.

Bodies are validated by the forms of the pages (fed as form data), so the rules and the Chinese
messages are the same; every id in a path or a body is looked up through visible_to() (outside
the caller's scope: 404). Phone numbers leave in full to area staff only (`disclosure_for`)."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from sanlian.core.api import ErrorOut, form_data, form_errors
from sanlian.core.xlsx import disclosure_for
from sanlian.organizations.models import Community, Organization

from ..forms.demands import (
    DemandFilterForm,
    DemandForm,
    NoteForm,
    RejectForm,
    RerouteForm,
    ResolveForm,
    RoutingRuleForm,
    SatisfactionForm,
)
from ..models import Demand, DemandCategory, DemandEvent, RoutingRule
from ..services import demands as services

router = Router()


def _user(request: HttpRequest) -> Any:
    user = request.user
    if not user.has_role(*services.HANDLER_ROLES):  # type: ignore[union-attr]
        raise HttpError(403, "无权查看居民诉求")
    return user


# ---- schemas ---------------------------------------------------------------------------------


class DemandOut(Schema):
    id: int
    number: str
    community_id: int
    community_name: str = Field(alias="community.name")
    category: str
    category_label: str
    channel: str
    description: str
    resident_name: str
    resident_phone: str
    handler_org_id: int | None
    handler_org_name: str | None
    routing_source: str
    routing_note: str
    project_id: int | None
    status: str
    status_label: str
    received_at: dt.datetime
    accept_due: dt.date
    resolve_due: dt.date
    overdue: str
    accepted_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    resolution: str
    public_reply: str
    resolved_in_community: bool
    reject_reason: str
    satisfaction: int | None
    feedback_by: str

    @staticmethod
    def resolve_category_label(obj: Demand) -> str:
        return str(obj.get_category_display())

    @staticmethod
    def resolve_status_label(obj: Demand) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_handler_org_name(obj: Demand) -> str | None:
        return obj.handler_org.name if obj.handler_org else None

    @staticmethod
    def resolve_overdue(obj: Demand) -> str:
        return obj.overdue_label()

    @staticmethod
    def resolve_resident_phone(obj: Demand, context: dict[str, Any]) -> str:
        return disclosure_for(context["request"].user).phone(obj.resident_phone)


class EventOut(Schema):
    kind: str
    kind_label: str
    at: dt.datetime
    actor_name: str
    from_status: str
    to_status: str
    organization_id: int | None
    note: str

    @staticmethod
    def resolve_kind_label(obj: DemandEvent) -> str:
        return str(obj.get_kind_display())


class DemandDetailOut(DemandOut):
    events: list[EventOut]
    actions: list[str]

    @staticmethod
    def resolve_events(obj: Demand) -> list[DemandEvent]:
        return list(obj.events.order_by("at", "pk"))

    @staticmethod
    def resolve_actions(obj: Demand, context: dict[str, Any]) -> list[str]:
        return services.allowed_actions(context["request"].user, obj)


class DemandIn(Schema):
    community_id: int
    category: str
    channel: str
    resident_name: str
    resident_phone: str
    description: str
    project_id: int | None = None


class ActionIn(Schema):
    note: str = ""
    resolution: str = ""
    public_reply: str = ""
    resolved_in_community: bool = False
    satisfaction: int | None = None
    comment: str = ""
    reason: str = ""
    organization_id: int | None = None


class SuggestionOut(Schema):
    organization_id: int | None
    organization_name: str | None
    source: str
    source_label: str
    reason: str


class RuleOut(Schema):
    id: int
    owner_id: int
    category: str
    community_id: int | None
    street_id: int | None
    organization_id: int
    note: str
    is_active: bool


class RuleIn(Schema):
    category: str
    organization_id: int
    community_id: int | None = None
    street_id: int | None = None
    note: str = ""


def _visible(request: HttpRequest, demand_id: int) -> Demand:
    return get_object_or_404(
        Demand.objects.visible_to(request.user).select_related(
            "community__organization", "handler_org"
        ),
        pk=demand_id,
    )


# ---- demands ---------------------------------------------------------------------------------


@router.get("/demands", response=list[DemandOut])
@paginate
def demands(
    request: HttpRequest,
    status: str | None = None,
    category: str | None = None,
    community_id: int | None = None,
    channel: str | None = None,
    overdue: bool = False,
    q: str | None = None,
) -> Any:
    user = _user(request)
    form = DemandFilterForm(
        form_data(
            {
                "status": status,
                "category": category,
                "community": community_id,
                "channel": channel,
                "overdue": overdue,
                "q": q,
            }
        ),
        communities=Community.objects.all(),
    )
    if not form.is_valid():
        raise HttpError(400, "; ".join(str(m) for e in form.errors.values() for m in e))
    qs = Demand.objects.visible_to(user).select_related("community", "handler_org")
    return services.filter_demands(qs, form.cleaned_data).order_by("-received_at", "-pk")


@router.get("/demands/routing-suggestion", response=SuggestionOut)
def suggestion(request: HttpRequest, community_id: int, category: str) -> dict[str, Any]:
    """Where a demand of the category in the community would be routed, and why."""
    user = _user(request)
    community = get_object_or_404(Community.objects.visible_to(user), pk=community_id)
    if category not in DemandCategory.values:
        raise HttpError(400, "诉求类别无效")
    s = services.routing_suggestion(community=community, category=category)
    return {
        "organization_id": s.organization.pk if s.organization else None,
        "organization_name": s.organization.name if s.organization else None,
        "source": s.source,
        "source_label": s.source_label,
        "reason": s.reason,
    }


@router.get("/demands/{demand_id}", response=DemandDetailOut)
def demand(request: HttpRequest, demand_id: int) -> Demand:
    _user(request)
    return _visible(request, demand_id)


@router.post("/demands", response={201: DemandDetailOut, 400: ErrorOut})
def demand_create(request: HttpRequest, payload: DemandIn) -> Any:
    user = _user(request)
    get_object_or_404(Community.objects.visible_to(user), pk=payload.community_id)
    form = DemandForm(
        form_data(
            {
                "community": payload.community_id,
                "category": payload.category,
                "channel": payload.channel,
                "resident_name": payload.resident_name,
                "resident_phone": payload.resident_phone,
                "description": payload.description,
                "project": payload.project_id,
            }
        ),
        communities=services.intake_communities(user),
        projects=services.demand_projects(user),
    )
    if not form.is_valid():
        return form_errors(form)
    try:
        created = services.demand_record(by=user, **form.cleaned_data)
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, created)


def _apply(user: Any, found: Demand, action: str, payload: ActionIn) -> BaseForm | None:
    """Run one step; the invalid form if the body does not validate."""
    form: BaseForm
    if action in ("accept", "start", "note"):
        form = NoteForm(form_data({"note": payload.note}), prefix="note")
        if not form.is_valid():
            return form
        note = form.cleaned_data["note"]
        if action == "accept":
            services.demand_accept(demand=found, by=user, note=note)
        elif action == "start":
            services.demand_start(demand=found, by=user, note=note)
        else:
            services.demand_note(demand=found, by=user, note=note)
        return None
    if action == "resolve":
        form = ResolveForm(
            form_data(
                {
                    "resolve-resolution": payload.resolution,
                    "resolve-public_reply": payload.public_reply,
                    "resolve-resolved_in_community": payload.resolved_in_community,
                }
            ),
            prefix="resolve",
        )
        if form.is_valid():
            services.demand_resolve(demand=found, by=user, **form.cleaned_data)
            return None
        return form
    if action == "close":
        form = SatisfactionForm(
            form_data({"satisfaction": payload.satisfaction, "comment": payload.comment})
        )
        if form.is_valid():
            services.demand_close(demand=found, by=user, **form.cleaned_data)
            return None
        return form
    if action == "reject":
        form = RejectForm(
            form_data({"reason": payload.reason, "public_reply": payload.public_reply})
        )
        if form.is_valid():
            services.demand_reject(demand=found, by=user, **form.cleaned_data)
            return None
        return form
    if payload.organization_id is not None:
        get_object_or_404(Organization.objects.visible_to(user), pk=payload.organization_id)
    form = RerouteForm(
        form_data({"organization": payload.organization_id, "reason": payload.reason}),
        organizations=services.routing_targets(user),
    )
    if form.is_valid():
        services.demand_reroute(demand=found, by=user, **form.cleaned_data)
        return None
    return form


@router.post("/demands/{demand_id}/{action}", response={200: DemandDetailOut, 400: ErrorOut})
def demand_step(request: HttpRequest, demand_id: int, action: str, payload: ActionIn) -> Any:
    """One step: accept, start, resolve, close (with the satisfaction), reject, reroute, note."""
    user = _user(request)
    if action not in ("accept", "start", "resolve", "close", "reject", "reroute", "note"):
        raise HttpError(404, "Not Found")
    found = _visible(request, demand_id)
    try:
        invalid = _apply(user, found, action, payload)
    except ValidationError as exc:
        return form_errors(exc)
    if invalid is not None:
        return form_errors(invalid)
    return _visible(request, demand_id)


# ---- routing rules ---------------------------------------------------------------------------


@router.get("/demand-routing-rules", response=list[RuleOut])
@paginate
def rules(request: HttpRequest, active: bool | None = None) -> Any:
    qs = RoutingRule.objects.visible_to(request.user)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("category", "-pk")


@router.post("/demand-routing-rules", response={201: RuleOut, 400: ErrorOut})
def rule_create(request: HttpRequest, payload: RuleIn) -> Any:
    user: Any = request.user
    if not user.has_role(*services.RULE_ROLES):
        raise HttpError(403, "无权制定分派规则")
    get_object_or_404(Organization.objects.visible_to(user), pk=payload.organization_id)
    if payload.community_id is not None:
        get_object_or_404(Community.objects.visible_to(user), pk=payload.community_id)
    if payload.street_id is not None:
        get_object_or_404(Organization.objects.visible_to(user), pk=payload.street_id)
    form = RoutingRuleForm(
        form_data(
            {
                "category": payload.category,
                "organization": payload.organization_id,
                "community": payload.community_id,
                "street": payload.street_id,
                "note": payload.note,
            }
        ),
        communities=services.rule_communities(user),
        streets=services.rule_streets(user),
        organizations=services.routing_targets(user),
    )
    if not form.is_valid():
        return form_errors(form)
    try:
        created = services.routing_rule_create(by=user, **form.cleaned_data)
    except ValidationError as exc:
        return form_errors(exc)
    return Status(201, created)


@router.post("/demand-routing-rules/{rule_id}/deactivate", response={200: RuleOut, 400: ErrorOut})
def rule_deactivate(request: HttpRequest, rule_id: int) -> Any:
    user: Any = request.user
    found = get_object_or_404(RoutingRule.objects.visible_to(user), pk=rule_id)
    try:
        return services.routing_rule_deactivate(rule=found, by=user)
    except ValidationError as exc:
        return form_errors(exc)
