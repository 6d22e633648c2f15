"""Writes of residents' demands (诉求), their routing and the reads the pages and the API share.

Intake. A resident submits on the public page (no account; at most `PUBLIC_LIMIT` demands per
address per hour, counted in Django's cache), or staff record one taken by phone, at a visit or
from the hotline. Each demand gets its deadlines from its category (`DEADLINES`: working days to
accept, calendar days to resolve, both counted from receipt) and is routed at once.

Routing. The suggestion comes from (1) the area's rules (`RoutingRule`: category, optionally a
community or a street → organisation; the most specific rule wins, then the one made nearest to
the community) and (2) what staff chose when they corrected the routing of similar demands: among
the last `LEARN_WINDOW` corrections of the category in the community (in the street when the
community has fewer than `LEARN_MIN`), the organisation chosen most often. The learned choice wins
when it was chosen at least `LEARN_MIN` times and more often than the rule's organisation; the
suggestion says which source it follows and why. Staff of the area correct a routing with a
reason; the correction is recorded and teaches the next suggestions.

Lifecycle (`LIFECYCLE`): received → accepted → in progress → resolved → closed with the
resident's satisfaction (1–5, entered by staff after a call-back, or by the resident through the
link of the public status page); received or accepted → rejected with a reason. A rerouted demand
goes back to received, for the new organisation to accept. Every step writes a timeline event.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sanlian.core.models import User
from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES, scope_for
from sanlian.organizations.models import AREA_KINDS, Community, Organization, OrgKind
from sanlian.resources.lifecycle import Lifecycle, Transition
from sanlian.resources.models import ProjectStatus, ServiceProject

from ..models import (
    DISPUTE_CATEGORIES,
    OPEN_STATUSES,
    Demand,
    DemandCategory,
    DemandChannel,
    DemandEvent,
    DemandEventKind,
    DemandStatus,
    FeedbackBy,
    RoutingCorrection,
    RoutingRule,
    RoutingSource,
)

# Who records demands and handles them; who corrects a routing; who keeps the rules.
HANDLER_ROLES = frozenset({*AREA_ROLES, Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER})
REROUTE_ROLES = frozenset(AREA_ROLES)
RULE_ROLES = frozenset({Role.FEDERATION_STAFF, Role.AREA_STAFF})
# Organisations a demand may be routed to.
HANDLER_KINDS = (
    *AREA_KINDS,
    OrgKind.PARTY_ORG,
    OrgKind.RESIDENTS_COMMITTEE,
    OrgKind.SOCIAL_ORG,
    OrgKind.ENTERPRISE,
)

# Deadlines per category: (working days to accept, calendar days to resolve), from receipt.
DEFAULT_DEADLINE = (3, 15)
DEADLINES: dict[str, tuple[int, int]] = {
    DemandCategory.LABOUR: (2, 30),
    DemandCategory.HARDSHIP: (2, 10),
    DemandCategory.LEGAL: (2, 10),
    DemandCategory.MENTAL: (1, 15),
    DemandCategory.ELDERLY: (2, 15),
}

# Learning from corrections.
LEARN_WINDOW = 20
LEARN_MIN = 2

# The public page: demands per address per hour.
PUBLIC_LIMIT = 5
PUBLIC_WINDOW_SECONDS = 3600

RESIDENT = gettext_lazy("居民")
SYSTEM = gettext_lazy("系统自动分派")

LIFECYCLE = Lifecycle(
    DemandStatus,
    [
        Transition(
            "accept",
            gettext_lazy("受理"),
            (DemandStatus.RECEIVED,),
            DemandStatus.ACCEPTED,
            HANDLER_ROLES,
        ),
        Transition(
            "start",
            gettext_lazy("开始办理"),
            (DemandStatus.ACCEPTED,),
            DemandStatus.IN_PROGRESS,
            HANDLER_ROLES,
        ),
        Transition(
            "resolve",
            gettext_lazy("办结"),
            (DemandStatus.IN_PROGRESS,),
            DemandStatus.RESOLVED,
            HANDLER_ROLES,
        ),
        Transition(
            "close",
            gettext_lazy("回访关闭"),
            (DemandStatus.RESOLVED,),
            DemandStatus.CLOSED,
            HANDLER_ROLES,
        ),
        Transition(
            "reject",
            gettext_lazy("不予受理"),
            (DemandStatus.RECEIVED, DemandStatus.ACCEPTED),
            DemandStatus.REJECTED,
            HANDLER_ROLES,
        ),
        Transition(
            "reroute",
            gettext_lazy("改派"),
            OPEN_STATUSES,
            DemandStatus.RECEIVED,
            REROUTE_ROLES,
        ),
    ],
)


# ---- deadlines -------------------------------------------------------------------------------


def add_working_days(day: dt.date, days: int) -> dt.date:
    """The day `days` working days (Monday to Friday) after `day`."""
    while days > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def deadlines(category: str, received_on: dt.date) -> tuple[dt.date, dt.date]:
    """(accept by, resolve by) for a demand of `category` received on `received_on`."""
    accept_days, resolve_days = DEADLINES.get(category, DEFAULT_DEADLINE)
    accept_due = add_working_days(received_on, accept_days)
    return accept_due, max(accept_due, received_on + dt.timedelta(days=resolve_days))


# ---- who may do what -------------------------------------------------------------------------


def may_handle(user: Any, demand: Demand) -> bool:
    """Area roles over the demand's community or its handler, and the handler's own staff."""
    scope = scope_for(user)
    if scope.is_anonymous or scope.is_admin or not scope.has(*HANDLER_ROLES):
        return False
    if scope.area_path is not None:
        paths = [demand.community.organization.path]
        if demand.handler_org is not None:
            paths.append(demand.handler_org.path)
        if any(p.startswith(scope.area_path) for p in paths):
            return True
    return (
        demand.handler_org_id is not None
        and demand.handler_org_id == scope.org_id
        and scope.has(Role.SOCIAL_ORG_MANAGER, Role.SOCIAL_WORKER)
    )


def may_reroute(user: Any, demand: Demand) -> bool:
    scope = scope_for(user)
    return (
        scope.area_path is not None
        and scope.has(*REROUTE_ROLES)
        and demand.community.organization.path.startswith(scope.area_path)
    )


def allowed_actions(user: Any, demand: Demand) -> list[str]:
    """Names of the transitions this user may make on the demand now."""
    names = []
    for t in LIFECYCLE.allowed(demand, user):
        if t.name == "reroute":
            if may_reroute(user, demand):
                names.append(t.name)
        elif may_handle(user, demand):
            names.append(t.name)
    return names


def intake_communities(user: Any) -> QuerySet[Community]:
    """Communities this user may record demands for."""
    if not user.has_role(*HANDLER_ROLES):
        return Community.objects.none()
    return Community.objects.visible_to(user).active()


def routing_targets(user: Any) -> QuerySet[Organization]:
    """Organisations this user may route a demand to (or name in a rule)."""
    return Organization.objects.visible_to(user).active().filter(kind__in=HANDLER_KINDS)


def rule_communities(user: Any) -> QuerySet[Community]:
    return Community.objects.visible_to(user).active()


def rule_streets(user: Any) -> QuerySet[Organization]:
    return Organization.objects.visible_to(user).active().filter(kind=OrgKind.STREET_UNION)


def demand_projects(user: Any) -> QuerySet[ServiceProject]:
    """Running projects a demand may be recorded under."""
    return ServiceProject.objects.visible_to(user).filter(
        status__in=(ProjectStatus.ACTIVE, ProjectStatus.CLOSING)
    )


# ---- routing suggestion ----------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    organization: Organization | None
    source: str  # RoutingSource
    reason: str

    @property
    def source_label(self) -> str:
        return str(RoutingSource(self.source).label)


def _rule_for(community: Community, category: str) -> RoutingRule | None:
    """The most specific active rule: community, then street, then area-wide; among equals the
    one made nearest to the community, then the newest."""
    rules = list(
        RoutingRule.objects.applying_to(community, category).select_related("organization", "owner")
    )

    def rank(rule: RoutingRule) -> tuple[int, int, int]:
        specificity = 2 if rule.community_id else 1 if rule.street_id else 0
        return (specificity, len(rule.owner.path), rule.pk)

    return max(rules, key=rank) if rules else None


def _learned_for(community: Community, category: str) -> tuple[Counter[int], int, str]:
    """Votes per organisation among the recent corrections of similar demands, how many
    corrections were counted, and where ("社区" / "街道")."""
    base = RoutingCorrection.objects.filter(category=category, to_org__is_active=True)
    rows = list(base.filter(community=community).values_list("to_org_id", flat=True)[:LEARN_WINDOW])
    where = _("本社区")
    if len(rows) < LEARN_MIN:
        rows = list(
            base.filter(street_id=community.street_id).values_list("to_org_id", flat=True)[
                :LEARN_WINDOW
            ]
        )
        where = _("本街道")
    return Counter(rows), len(rows), where


def routing_suggestion(*, community: Community, category: str) -> Suggestion:
    """Where a demand of `category` in `community` should go, and why."""
    rule = _rule_for(community, category)
    votes, counted, where = _learned_for(community, category)
    label = DemandCategory(category).label if category in DemandCategory.values else category
    if votes:
        # Most votes; among equals the one chosen most recently (rows are newest first).
        top_id, top = votes.most_common(1)[0]
        rule_votes = votes.get(rule.organization_id, 0) if rule else 0
        if top >= LEARN_MIN and (
            rule is None or (top_id != rule.organization_id and top > rule_votes)
        ):
            org = Organization.objects.get(pk=top_id)
            return Suggestion(
                org,
                RoutingSource.LEARNED,
                _("%(where)s最近%(n)d次“%(category)s”类诉求改派中，%(k)d次改派至%(org)s")
                % {"where": where, "n": counted, "category": label, "k": top, "org": org.name},
            )
    if rule is not None:
        return Suggestion(
            rule.organization,
            RoutingSource.RULE,
            _("规则：“%(category)s”类诉求（%(where)s）由%(org)s承办")
            % {"category": label, "where": rule.where, "org": rule.organization.name},
        )
    return Suggestion(None, RoutingSource.NONE, _("没有适用的分派规则，请人工指定承办组织。"))


# ---- intake ----------------------------------------------------------------------------------


def _actor_name(by: User | None) -> str:
    return str(by) if by is not None else str(RESIDENT)


def _event(
    demand: Demand,
    kind: str,
    by: User | None,
    *,
    from_status: str = "",
    note: str = "",
    organization: Organization | None = None,
    system: bool = False,
) -> DemandEvent:
    """`system`: the platform itself acted (the routing at intake)."""
    event = DemandEvent(
        demand=demand,
        kind=kind,
        actor=None if system else by,
        actor_name=str(SYSTEM) if system else _actor_name(by),
        from_status=from_status,
        to_status=demand.status,
        note=note,
        organization=organization,
    )
    event.save()
    return event


def _check_text(errors: dict[str, str], name: str, value: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        errors[name] = message
    return text


def _create(
    *,
    by: User | None,
    community: Community,
    category: str,
    channel: str,
    description: str,
    resident_name: str,
    resident_phone: str,
    project: ServiceProject | None,
    received_at: dt.datetime | None,
) -> Demand:
    errors: dict[str, str] = {}
    if category not in DemandCategory.values:
        errors["category"] = _("请选择诉求类别。")
    if channel not in DemandChannel.values:
        errors["channel"] = _("请选择来源渠道。")
    description = _check_text(errors, "description", description, _("请填写诉求内容。"))
    resident_name = _check_text(errors, "resident_name", resident_name, _("请填写姓名。"))
    if not community.is_active:
        errors["community"] = _("该社区已撤并，不能再登记诉求。")
    if project is not None and not project.communities.filter(pk=community.pk).exists():
        errors["project"] = _("该服务项目不服务于所选社区。")
    now = timezone.now()
    received = received_at or now
    if received > now + dt.timedelta(minutes=5):
        errors["received_at"] = _("接收时间不能晚于现在。")
    if errors:
        raise ValidationError(errors)
    accept_due, resolve_due = deadlines(category, timezone.localtime(received).date())
    suggestion = routing_suggestion(community=community, category=category)
    demand = Demand(
        community=community,
        category=category,
        channel=channel,
        description=description,
        resident_name=resident_name,
        resident_phone=resident_phone,
        project=project,
        received_at=received,
        accept_due=accept_due,
        resolve_due=resolve_due,
        handler_org=suggestion.organization,
        routing_source=suggestion.source,
        routing_note=suggestion.reason[:300],
        created_by=by,
    )
    demand.full_clean(exclude=["created_by", "token"])
    demand.save()
    _event(demand, DemandEventKind.SUBMITTED if by is None else DemandEventKind.RECORDED, by)
    if suggestion.organization is not None:
        _event(
            demand,
            DemandEventKind.ROUTED,
            None,
            system=True,
            note=suggestion.reason,  # it says where it comes from (规则：… / …改派中…)
            organization=suggestion.organization,
        )
    return demand


def public_rate_ok(address: str | None) -> bool:
    """Whether this address may submit one more demand now (and count it)."""
    key = f"delivery:demand-public:{address or 'unknown'}"
    if cache.add(key, 1, PUBLIC_WINDOW_SECONDS):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, PUBLIC_WINDOW_SECONDS)
        return True
    return count <= PUBLIC_LIMIT


@transaction.atomic
def demand_submit(
    *,
    community: Community,
    category: str,
    description: str,
    resident_name: str,
    resident_phone: str,
    address: str | None,
) -> Demand:
    """A resident's demand from the public page (refused beyond the per-address limit)."""
    if not public_rate_ok(address):
        raise ValidationError(_("提交过于频繁，请一小时后再试，或拨打社区电话反映。"), code="rate")
    return _create(
        by=None,
        community=community,
        category=category,
        channel=DemandChannel.PUBLIC_PAGE,
        description=description,
        resident_name=resident_name,
        resident_phone=resident_phone,
        project=None,
        received_at=None,
    )


@transaction.atomic
def demand_record(
    *,
    by: User,
    community: Community,
    category: str,
    channel: str,
    description: str,
    resident_name: str,
    resident_phone: str,
    project: ServiceProject | None = None,
    received_at: dt.datetime | None = None,
) -> Demand:
    """A demand staff took by phone, at a visit, from the hotline (or a written one)."""
    if not intake_communities(by).filter(pk=community.pk).exists():
        raise ValidationError({"community": _("您无权为该社区登记诉求。")})
    if project is not None and not demand_projects(by).filter(pk=project.pk).exists():
        raise ValidationError({"project": _("只能选择您可见的、执行中的服务项目。")})
    return _create(
        by=by,
        community=community,
        category=category,
        channel=channel,
        description=description,
        resident_name=resident_name,
        resident_phone=resident_phone,
        project=project,
        received_at=received_at,
    )


# ---- lifecycle -------------------------------------------------------------------------------


def _locked(demand: Demand) -> Demand:
    return (
        Demand.objects.select_for_update(of=("self",))
        .select_related("community__organization", "handler_org")
        .get(pk=demand.pk)
    )


def _step(demand: Demand, name: str, by: User | None) -> tuple[Demand, str]:
    """Lock the demand, check the transition (and that `by` may act on it); returns the
    locked row and its status before."""
    locked = _locked(demand)
    LIFECYCLE.check(locked, name, by)
    if by is not None:
        allowed = may_reroute(by, locked) if name == "reroute" else may_handle(by, locked)
        if not allowed:
            raise ValidationError(_("您无权办理该诉求。"), code="forbidden")
    return locked, locked.status


@transaction.atomic
def demand_accept(*, demand: Demand, by: User, note: str = "") -> Demand:
    demand, before = _step(demand, "accept", by)
    if demand.handler_org_id is None:
        raise ValidationError(_("该诉求尚未分派承办组织，请先改派。"), code="unrouted")
    demand.status = DemandStatus.ACCEPTED
    demand.accepted_at = timezone.now()
    demand.save()
    _event(demand, DemandEventKind.ACCEPTED, by, from_status=before, note=note.strip())
    return demand


@transaction.atomic
def demand_start(*, demand: Demand, by: User, note: str = "") -> Demand:
    demand, before = _step(demand, "start", by)
    demand.status = DemandStatus.IN_PROGRESS
    demand.save()
    _event(demand, DemandEventKind.STARTED, by, from_status=before, note=note.strip())
    return demand


@transaction.atomic
def demand_resolve(
    *,
    demand: Demand,
    by: User,
    resolution: str,
    public_reply: str = "",
    resolved_in_community: bool = False,
) -> Demand:
    demand, before = _step(demand, "resolve", by)
    errors: dict[str, str] = {}
    resolution = _check_text(errors, "resolution", resolution, _("请填写办理结果。"))
    if resolved_in_community and demand.category not in DISPUTE_CATEGORIES:
        errors["resolved_in_community"] = _("只有纠纷类诉求可以标记为“调解在社区”。")
    if errors:
        raise ValidationError(errors)
    demand.status = DemandStatus.RESOLVED
    demand.resolved_at = timezone.now()
    demand.resolution = resolution
    demand.public_reply = (public_reply or "").strip()
    demand.resolved_in_community = resolved_in_community
    demand.full_clean(exclude=["created_by", "token"])
    demand.save()
    _event(demand, DemandEventKind.RESOLVED, by, from_status=before, note=resolution)
    return demand


def _check_satisfaction(satisfaction: Any) -> int:
    try:
        value = int(satisfaction)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise ValidationError({"satisfaction": _("满意度须为 1 至 5 分。")})
    return value


def _close(
    demand: Demand, by: User | None, before: str, satisfaction: Any, comment: str, how: str
) -> Demand:
    demand.satisfaction = _check_satisfaction(satisfaction)
    demand.feedback_by = how
    demand.feedback_comment = (comment or "").strip()[:500]
    demand.status = DemandStatus.CLOSED
    demand.closed_at = timezone.now()
    demand.save()
    note = _("满意度 %(n)d 分") % {"n": demand.satisfaction}
    if demand.feedback_comment:
        note = f"{note}：{demand.feedback_comment}"
    _event(demand, DemandEventKind.CLOSED, by, from_status=before, note=note)
    return demand


@transaction.atomic
def demand_close(*, demand: Demand, by: User, satisfaction: Any, comment: str = "") -> Demand:
    """Close after the call-back, with the satisfaction the resident gave on the phone."""
    demand, before = _step(demand, "close", by)
    return _close(demand, by, before, satisfaction, comment, FeedbackBy.STAFF)


@transaction.atomic
def demand_feedback(*, token: str, satisfaction: Any, comment: str = "") -> Demand:
    """The resident rates a resolved demand through the link of its status page."""
    found = Demand.objects.filter(token=token).first()
    if found is None:
        raise ValidationError(_("链接无效。"), code="token")
    demand, before = _step(found, "close", None)
    return _close(demand, None, before, satisfaction, comment, FeedbackBy.RESIDENT)


@transaction.atomic
def demand_reject(*, demand: Demand, by: User, reason: str, public_reply: str = "") -> Demand:
    demand, before = _step(demand, "reject", by)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写不予受理的原因。")})
    demand.status = DemandStatus.REJECTED
    demand.reject_reason = reason[:300]
    demand.public_reply = (public_reply or "").strip() or demand.reject_reason
    demand.closed_at = timezone.now()
    demand.save()
    _event(demand, DemandEventKind.REJECTED, by, from_status=before, note=demand.reject_reason)
    return demand


@transaction.atomic
def demand_reroute(*, demand: Demand, by: User, organization: Organization, reason: str) -> Demand:
    """Send the demand to another organisation; recorded as a correction the routing learns
    from. The new organisation accepts it afresh (the deadlines keep running)."""
    demand, before = _step(demand, "reroute", by)
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if not reason:
        errors["reason"] = _("请填写改派原因。")
    if not routing_targets(by).filter(pk=organization.pk).exists():
        errors["organization"] = _("只能改派至您辖区内在用的组织。")
    elif organization.pk == demand.handler_org_id:
        errors["organization"] = _("改派的组织与当前承办组织相同。")
    if errors:
        raise ValidationError(errors)
    RoutingCorrection(
        demand=demand,
        category=demand.category,
        community=demand.community,
        street_id=demand.community.street_id,
        from_org=demand.handler_org,
        to_org=organization,
        reason=reason[:300],
        by=by,
    ).save()
    demand.handler_org = organization
    demand.routing_source = RoutingSource.MANUAL
    demand.routing_note = reason[:300]
    demand.status = DemandStatus.RECEIVED
    demand.accepted_at = None
    demand.save()
    _event(
        demand,
        DemandEventKind.REROUTED,
        by,
        from_status=before,
        note=reason,
        organization=organization,
    )
    return demand


@transaction.atomic
def demand_note(*, demand: Demand, by: User, note: str) -> DemandEvent:
    """A line in the timeline (a call made, a visit, what was agreed)."""
    locked = _locked(demand)
    if not may_handle(by, locked):
        raise ValidationError(_("您无权办理该诉求。"), code="forbidden")
    text = (note or "").strip()
    if not text:
        raise ValidationError({"note": _("请填写备注内容。")})
    return _event(locked, DemandEventKind.NOTE, by, from_status=locked.status, note=text)


# ---- routing rules ---------------------------------------------------------------------------


@transaction.atomic
def routing_rule_create(
    *,
    by: User,
    category: str,
    organization: Organization,
    community: Community | None = None,
    street: Organization | None = None,
    note: str = "",
) -> RoutingRule:
    """A rule of the user's level: for one of its communities or streets, or its whole area."""
    scope = scope_for(by)
    if scope.area_path is None or not by.has_role(*RULE_ROLES) or by.organization is None:
        raise ValidationError(_("只有市、区、街道工会工作人员可以制定分派规则。"), code="forbidden")
    errors: dict[str, str] = {}
    if category not in DemandCategory.values:
        errors["category"] = _("请选择诉求类别。")
    if community is not None and street is not None:
        errors["street"] = _("规则只能指定社区或街道之一。")
    if community is not None and not rule_communities(by).filter(pk=community.pk).exists():
        errors["community"] = _("只能为您辖区内的社区制定规则。")
    if street is not None and not rule_streets(by).filter(pk=street.pk).exists():
        errors["street"] = _("只能为您辖区内的街道制定规则。")
    if not routing_targets(by).filter(pk=organization.pk).exists():
        errors["organization"] = _("只能分派至您辖区内在用的组织。")
    if errors:
        raise ValidationError(errors)
    rule = RoutingRule(
        owner=by.organization.area_node(),
        category=category,
        community=community,
        street=street,
        organization=organization,
        note=(note or "").strip()[:200],
        created_by=by,
    )
    rule.full_clean(exclude=["created_by"])
    rule.save()
    return rule


@transaction.atomic
def routing_rule_deactivate(*, rule: RoutingRule, by: User) -> RoutingRule:
    scope = scope_for(by)
    if (
        scope.area_path is None
        or not by.has_role(*RULE_ROLES)
        or not rule.owner.path.startswith(scope.area_path)
    ):
        raise ValidationError(_("只能停用本级及下级制定的规则。"), code="forbidden")
    rule.is_active = False
    rule.save()
    return rule


# ---- reads -----------------------------------------------------------------------------------


def filter_demands(qs: Any, data: dict[str, Any]) -> Any:
    """Apply the list filters (cleaned data of `DemandFilterForm`)."""
    if data.get("status"):
        qs = qs.filter(status=data["status"])
    if data.get("category"):
        qs = qs.filter(category=data["category"])
    if data.get("community"):
        qs = qs.filter(community=data["community"])
    if data.get("channel"):
        qs = qs.filter(channel=data["channel"])
    if data.get("overdue"):
        qs = qs.overdue()
    if data.get("mediated"):
        qs = qs.filter(resolved_in_community=True)
    if data.get("q"):
        text = data["q"].strip()
        qs = qs.filter(Q(description__icontains=text) | Q(resident_name__icontains=text))
    return qs


def overdue_count(user: Any) -> int:
    return int(Demand.objects.visible_to(user).overdue().count())


# ---- what demands add elsewhere --------------------------------------------------------------


def project_beneficiaries(project: Any) -> Iterable[str]:
    """Residents whose demands were handled under the project, by phone number."""
    from ..outputs import phone_key

    phones = (
        Demand.objects.filter(project=project)
        .exclude(status=DemandStatus.REJECTED)
        .order_by()
        .values_list("resident_phone", flat=True)
        .distinct()
    )
    return [phone_key(p) for p in phones if p]


def connect() -> None:
    from .. import outputs

    outputs.register_beneficiaries("demands", project_beneficiaries)
