"""Residents' demands: intake with deadlines, routing by rules and by staff's past corrections,
the explicit lifecycle with its Chinese refusals, satisfaction by staff or by the resident's
link, overdue demands, the public page's limit per address, and beneficiaries of projects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from sanlian.core.models import AuditAction, AuditEntry
from sanlian.core.roles import Role
from sanlian.delivery import outputs
from sanlian.delivery.models import (
    Demand,
    DemandCategory,
    DemandChannel,
    DemandEventKind,
    DemandStatus,
    FeedbackBy,
    RoutingCorrection,
    RoutingSource,
)
from sanlian.delivery.services import demands as services
from sanlian.organizations.models import OrgKind

from ..conftest import World
from ..factories import OrganizationFactory, UserFactory
from ..resources.factories import project_in
from .factories_demands import DemandFactory, RoutingCorrectionFactory, RoutingRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ruled(world: World) -> Any:
    """Property disputes of C1 go to O1."""
    return RoutingRuleFactory(owner=world.s1, community=world.c1, organization=world.o1)


def _record(world: World, role: str = Role.COMMUNITY_CADRE, **fields: Any) -> Demand:
    data: dict[str, Any] = {
        "community": world.c1,
        "category": DemandCategory.PROPERTY,
        "channel": DemandChannel.PHONE,
        "description": "小区电梯多次故障，物业不处理",
        "resident_name": "王大妈",
        "resident_phone": "13812345678",
    }
    data.update(fields)
    return services.demand_record(by=world.users[role], **data)


def _property_co(world: World) -> Any:
    return OrganizationFactory(
        name="凯旋物业调解站", kind=OrgKind.RESIDENTS_COMMITTEE, parent=world.c1.organization
    )


def _to_resolved(world: World, demand: Demand, **kwargs: Any) -> Demand:
    by = world.users[Role.COMMUNITY_CADRE]
    services.demand_accept(demand=demand, by=by)
    services.demand_start(demand=demand, by=by)
    return services.demand_resolve(demand=demand, by=by, resolution="已协调物业维修", **kwargs)


# ---- deadlines -------------------------------------------------------------------------------


def test_working_days_skip_the_weekend() -> None:
    friday = dt.date(2026, 5, 15)
    assert services.add_working_days(friday, 3) == dt.date(2026, 5, 20)


def test_deadlines_come_from_the_category() -> None:
    monday = dt.date(2026, 5, 11)
    assert services.deadlines(DemandCategory.LABOUR, monday) == (
        dt.date(2026, 5, 13),
        dt.date(2026, 6, 10),
    )


def test_an_unlisted_category_gets_the_default_deadlines() -> None:
    monday = dt.date(2026, 5, 11)
    assert services.deadlines(DemandCategory.OTHER, monday) == (
        dt.date(2026, 5, 14),
        dt.date(2026, 5, 26),
    )


# ---- routing ---------------------------------------------------------------------------------


def test_a_recorded_demand_is_routed_by_the_rule(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, community=world.c1, organization=world.o1)
    demand = _record(world)
    assert (demand.handler_org, demand.routing_source) == (world.o1, RoutingSource.RULE)


def test_the_community_rule_beats_the_street_rule(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, street=world.s1, organization=_property_co(world))
    RoutingRuleFactory(owner=world.s1, community=world.c1, organization=world.o1)
    assert _record(world).handler_org == world.o1


def test_a_rule_of_another_district_does_not_apply(world: World) -> None:
    RoutingRuleFactory(owner=world.d2, organization=world.o2)
    demand = _record(world)
    assert (demand.handler_org, demand.routing_source) == (None, RoutingSource.NONE)


def test_a_rule_of_another_category_does_not_apply(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, category=DemandCategory.LEGAL, organization=world.o1)
    assert _record(world).handler_org is None


def test_the_suggestion_says_it_follows_the_rule(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, community=world.c1, organization=world.o1)
    suggestion = services.routing_suggestion(community=world.c1, category=DemandCategory.PROPERTY)
    assert suggestion.source_label == "规则"
    assert "阳光社工中心" in suggestion.reason


def _corrections(world: World, to_org: Any, n: int, community: Any = None) -> None:
    for _ in range(n):
        demand = DemandFactory(community=community or world.c1)
        RoutingCorrectionFactory(demand=demand, to_org=to_org)


def test_past_corrections_beat_the_rule(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, community=world.c1, organization=world.o1)
    station = _property_co(world)
    _corrections(world, station, 2)
    demand = _record(world)
    assert (demand.handler_org, demand.routing_source) == (station, RoutingSource.LEARNED)


def test_the_learned_suggestion_explains_how_often_staff_chose_it(world: World) -> None:
    station = _property_co(world)
    _corrections(world, station, 3)
    suggestion = services.routing_suggestion(community=world.c1, category=DemandCategory.PROPERTY)
    assert suggestion.source_label == "以往改派"
    assert "最近3次" in suggestion.reason and "3次改派至凯旋物业调解站" in suggestion.reason


def test_a_single_correction_does_not_beat_the_rule(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, community=world.c1, organization=world.o1)
    _corrections(world, _property_co(world), 1)
    assert _record(world).handler_org == world.o1


def test_corrections_towards_the_rule_keep_the_rule(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, community=world.c1, organization=world.o1)
    _corrections(world, _property_co(world), 2)
    _corrections(world, world.o1, 2)
    assert _record(world).routing_source == RoutingSource.RULE


def test_corrections_in_the_street_count_when_the_community_has_few(world: World) -> None:
    from ..factories import CommunityFactory

    neighbour = CommunityFactory(name="邻近社区", street_org=world.s1)
    station = _property_co(world)
    _corrections(world, station, 2, community=neighbour)
    suggestion = services.routing_suggestion(community=world.c1, category=DemandCategory.PROPERTY)
    assert (suggestion.organization, suggestion.source) == (station, RoutingSource.LEARNED)
    assert "本街道" in suggestion.reason


def test_staff_reroute_with_a_reason_records_a_correction(world: World) -> None:
    demand = _record(world)
    station = _property_co(world)
    services.demand_reroute(
        demand=demand, by=world.users[Role.COMMUNITY_CADRE], organization=station, reason="物业事项"
    )
    correction = RoutingCorrection.objects.get(demand=demand)
    assert (correction.to_org, correction.community, correction.reason) == (
        station,
        world.c1,
        "物业事项",
    )


def test_a_rerouted_demand_waits_for_the_new_organisation_to_accept(
    world: World, ruled: Any
) -> None:
    demand = _record(world)
    services.demand_accept(demand=demand, by=world.users[Role.COMMUNITY_CADRE])
    demand = services.demand_reroute(
        demand=demand,
        by=world.users[Role.COMMUNITY_CADRE],
        organization=_property_co(world),
        reason="需调解站介入",
    )
    assert (demand.status, demand.routing_source, demand.accepted_at) == (
        DemandStatus.RECEIVED,
        RoutingSource.MANUAL,
        None,
    )


def test_a_reroute_needs_a_reason(world: World) -> None:
    demand = _record(world)
    with pytest.raises(ValidationError) as exc:
        services.demand_reroute(
            demand=demand, by=world.users[Role.COMMUNITY_CADRE], organization=world.o1, reason=" "
        )
    assert exc.value.message_dict["reason"] == ["请填写改派原因。"]


def test_a_reroute_to_an_organisation_outside_the_area_is_refused(world: World) -> None:
    demand = _record(world)
    with pytest.raises(ValidationError) as exc:
        services.demand_reroute(
            demand=demand, by=world.users[Role.COMMUNITY_CADRE], organization=world.o2, reason="x"
        )
    assert "organization" in exc.value.message_dict


def test_a_social_organisation_cannot_reroute(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, community=world.c1, organization=world.o1)
    demand = _record(world)
    with pytest.raises(ValidationError) as exc:
        services.demand_reroute(
            demand=demand,
            by=world.users[Role.SOCIAL_ORG_MANAGER],
            organization=_property_co(world),
            reason="不属于本机构",
        )
    assert exc.value.messages == ["您的角色无权执行“改派”。"]


# ---- lifecycle -------------------------------------------------------------------------------


def test_a_demand_goes_from_received_to_closed(world: World, ruled: Any) -> None:
    demand = _to_resolved(world, _record(world))
    demand = services.demand_close(
        demand=demand, by=world.users[Role.COMMUNITY_CADRE], satisfaction=5, comment="很满意"
    )
    assert (demand.status, demand.satisfaction, demand.feedback_by) == (
        DemandStatus.CLOSED,
        5,
        FeedbackBy.STAFF,
    )


def test_the_timeline_records_every_step_with_its_actor(world: World, ruled: Any) -> None:
    demand = _to_resolved(world, _record(world))
    kinds = list(demand.events.order_by("at", "pk").values_list("kind", "actor_name"))
    assert kinds == [
        (DemandEventKind.RECORDED, str(world.users[Role.COMMUNITY_CADRE])),
        (DemandEventKind.ROUTED, "系统自动分派"),
        (DemandEventKind.ACCEPTED, str(world.users[Role.COMMUNITY_CADRE])),
        (DemandEventKind.STARTED, str(world.users[Role.COMMUNITY_CADRE])),
        (DemandEventKind.RESOLVED, str(world.users[Role.COMMUNITY_CADRE])),
    ]


def test_a_routed_demand_has_a_routing_event(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, community=world.c1, organization=world.o1)
    demand = _record(world)
    event = demand.events.get(kind=DemandEventKind.ROUTED)
    assert event.organization == world.o1


def test_a_skipped_step_is_refused_in_chinese(world: World) -> None:
    demand = _record(world)
    with pytest.raises(ValidationError) as exc:
        services.demand_resolve(
            demand=demand, by=world.users[Role.COMMUNITY_CADRE], resolution="已解决"
        )
    assert exc.value.messages == ["当前状态为“待受理”，不能执行“办结”（仅限办理中状态）。"]


def test_an_unrouted_demand_cannot_be_accepted(world: World) -> None:
    demand = _record(world)
    demand.handler_org = None
    demand.save()
    with pytest.raises(ValidationError) as exc:
        services.demand_accept(demand=demand, by=world.users[Role.COMMUNITY_CADRE])
    assert exc.value.messages == ["该诉求尚未分派承办组织，请先改派。"]


def test_the_handling_organisation_accepts_its_demand(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, community=world.c1, organization=world.o1)
    demand = services.demand_accept(demand=_record(world), by=world.users[Role.SOCIAL_WORKER])
    assert demand.status == DemandStatus.ACCEPTED


def test_another_organisation_cannot_act_on_a_demand(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, community=world.c1, organization=world.o1)
    outsider = UserFactory(organization=world.o2, roles=[Role.SOCIAL_ORG_MANAGER])
    with pytest.raises(ValidationError) as exc:
        services.demand_accept(demand=_record(world), by=outsider)
    assert exc.value.messages == ["您无权办理该诉求。"]


def test_resolving_needs_the_outcome(world: World, ruled: Any) -> None:
    demand = _record(world)
    by = world.users[Role.COMMUNITY_CADRE]
    services.demand_accept(demand=demand, by=by)
    services.demand_start(demand=demand, by=by)
    with pytest.raises(ValidationError) as exc:
        services.demand_resolve(demand=demand, by=by, resolution="")
    assert exc.value.message_dict["resolution"] == ["请填写办理结果。"]


def test_a_dispute_can_be_marked_resolved_inside_the_community(world: World, ruled: Any) -> None:
    demand = _to_resolved(world, _record(world), resolved_in_community=True)
    assert demand.resolved_in_community is True


def test_only_a_dispute_can_be_marked_resolved_inside_the_community(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, category=DemandCategory.ELDERLY, organization=world.o1)
    demand = _record(world, category=DemandCategory.ELDERLY)
    with pytest.raises(ValidationError) as exc:
        _to_resolved(world, demand, resolved_in_community=True)
    assert exc.value.message_dict["resolved_in_community"] == [
        "只有纠纷类诉求可以标记为“调解在社区”。"
    ]


@pytest.mark.parametrize("score", [0, 6, "很好", None])
def test_satisfaction_must_be_one_to_five(world: World, ruled: Any, score: Any) -> None:
    demand = _to_resolved(world, _record(world))
    with pytest.raises(ValidationError) as exc:
        services.demand_close(
            demand=demand, by=world.users[Role.COMMUNITY_CADRE], satisfaction=score
        )
    assert exc.value.message_dict["satisfaction"] == ["满意度须为 1 至 5 分。"]


def test_the_resident_rates_through_the_link_and_closes_the_demand(
    world: World, ruled: Any
) -> None:
    demand = _to_resolved(world, _record(world))
    demand = services.demand_feedback(token=demand.token, satisfaction=4, comment="辛苦了")
    assert (demand.status, demand.satisfaction, demand.feedback_by) == (
        DemandStatus.CLOSED,
        4,
        FeedbackBy.RESIDENT,
    )
    assert demand.events.get(kind=DemandEventKind.CLOSED).actor_name == "居民"


def test_the_resident_cannot_rate_before_the_demand_is_resolved(world: World) -> None:
    demand = _record(world)
    with pytest.raises(ValidationError) as exc:
        services.demand_feedback(token=demand.token, satisfaction=5)
    assert exc.value.messages == ["当前状态为“待受理”，不能执行“回访关闭”（仅限已办结状态）。"]


def test_a_rejection_needs_a_reason(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        services.demand_reject(
            demand=_record(world), by=world.users[Role.COMMUNITY_CADRE], reason=""
        )
    assert exc.value.message_dict["reason"] == ["请填写不予受理的原因。"]


def test_a_rejection_tells_the_resident_the_reason(world: World) -> None:
    demand = services.demand_reject(
        demand=_record(world), by=world.users[Role.COMMUNITY_CADRE], reason="属于法院管辖"
    )
    assert (demand.status, demand.public_reply) == (DemandStatus.REJECTED, "属于法院管辖")


def test_a_closed_demand_cannot_be_rejected(world: World, ruled: Any) -> None:
    demand = _to_resolved(world, _record(world))
    services.demand_close(demand=demand, by=world.users[Role.COMMUNITY_CADRE], satisfaction=3)
    with pytest.raises(ValidationError) as exc:
        services.demand_reject(demand=demand, by=world.users[Role.COMMUNITY_CADRE], reason="x")
    assert "不能执行“不予受理”" in exc.value.messages[0]


def test_changes_of_a_demand_are_in_the_audit_trail(world: World, ruled: Any) -> None:
    demand = _record(world)
    services.demand_accept(demand=demand, by=world.users[Role.COMMUNITY_CADRE])
    entries = AuditEntry.objects.filter(object_type="delivery.Demand", object_id=str(demand.pk))
    assert entries.filter(
        action=AuditAction.UPDATE, changes__status=["received", "accepted"]
    ).exists()


# ---- intake ----------------------------------------------------------------------------------


def test_staff_record_only_for_communities_they_see(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        _record(world, community=world.c2)
    assert exc.value.message_dict["community"] == ["您无权为该社区登记诉求。"]


def test_a_demand_gets_its_deadlines_at_intake(world: World) -> None:
    demand = _record(world, category=DemandCategory.LABOUR)
    today = timezone.localdate()
    assert (demand.accept_due, demand.resolve_due) == services.deadlines(
        DemandCategory.LABOUR, today
    )


def test_a_public_demand_has_no_recorder_and_its_channel(world: World) -> None:
    demand = services.demand_submit(
        community=world.c1,
        category=DemandCategory.NEIGHBOUR,
        description="楼上漏水",
        resident_name="赵先生",
        resident_phone="13900001111",
        address="10.0.0.1",
    )
    assert (demand.created_by, demand.channel) == (None, DemandChannel.PUBLIC_PAGE)
    assert demand.events.get().kind == DemandEventKind.SUBMITTED


def _submit(world: World, address: str) -> Demand:
    return services.demand_submit(
        community=world.c1,
        category=DemandCategory.OTHER,
        description="建议增设健身器材",
        resident_name="钱女士",
        resident_phone="13900002222",
        address=address,
    )


def test_the_public_page_limits_demands_per_address(world: World) -> None:
    for _ in range(services.PUBLIC_LIMIT):
        _submit(world, "10.0.0.2")
    with pytest.raises(ValidationError) as exc:
        _submit(world, "10.0.0.2")
    assert exc.value.messages == ["提交过于频繁，请一小时后再试，或拨打社区电话反映。"]


def test_the_limit_of_one_address_does_not_touch_another(world: World) -> None:
    for _ in range(services.PUBLIC_LIMIT):
        _submit(world, "10.0.0.3")
    assert _submit(world, "10.0.0.4").pk is not None


# ---- overdue ---------------------------------------------------------------------------------


def test_a_demand_not_accepted_in_time_is_overdue(world: World) -> None:
    late = DemandFactory(community=world.c1, received_at=timezone.now() - dt.timedelta(days=10))
    DemandFactory(community=world.c1)
    assert list(Demand.objects.overdue()) == [late]
    assert late.overdue_label() == "受理超期"


def test_a_closed_demand_is_never_overdue(world: World) -> None:
    DemandFactory(
        community=world.c1,
        received_at=timezone.now() - dt.timedelta(days=60),
        status=DemandStatus.CLOSED,
        satisfaction=4,
    )
    assert Demand.objects.overdue().count() == 0


def test_an_accepted_demand_past_its_resolution_deadline_is_overdue(world: World) -> None:
    late = DemandFactory(
        community=world.c1,
        received_at=timezone.now() - dt.timedelta(days=40),
        status=DemandStatus.IN_PROGRESS,
    )
    assert late.overdue_label() == "办结超期"


def test_the_overdue_count_is_within_scope(world: World) -> None:
    long_ago = timezone.now() - dt.timedelta(days=10)
    DemandFactory(community=world.c1, received_at=long_ago)
    DemandFactory(community=world.c2, received_at=long_ago)
    assert services.overdue_count(world.users[Role.AREA_STAFF]) == 1


# ---- rules -----------------------------------------------------------------------------------


def test_area_staff_make_a_rule_of_their_level(world: World) -> None:
    rule = services.routing_rule_create(
        by=world.users[Role.AREA_STAFF],
        category=DemandCategory.LABOUR,
        organization=world.o1,
        street=world.s1,
    )
    assert (rule.owner, rule.street) == (world.d1, world.s1)


def test_a_community_cadre_cannot_make_rules(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        services.routing_rule_create(
            by=world.users[Role.COMMUNITY_CADRE],
            category=DemandCategory.LABOUR,
            organization=world.o1,
        )
    assert exc.value.messages == ["只有市、区、街道工会工作人员可以制定分派规则。"]


def test_a_rule_for_a_community_outside_the_area_is_refused(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        services.routing_rule_create(
            by=world.users[Role.AREA_STAFF],
            category=DemandCategory.LABOUR,
            organization=world.o1,
            community=world.c2,
        )
    assert "community" in exc.value.message_dict


def test_a_deactivated_rule_no_longer_routes(world: World) -> None:
    rule = RoutingRuleFactory(owner=world.d1, organization=world.o1)
    services.routing_rule_deactivate(rule=rule, by=world.users[Role.AREA_STAFF])
    assert _record(world).handler_org is None


# ---- outputs ---------------------------------------------------------------------------------


def test_residents_of_a_project_count_once_as_beneficiaries(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    DemandFactory(community=world.c1, project=project, resident_phone="13800000001")
    DemandFactory(community=world.c1, project=project, resident_phone="13800000001")
    DemandFactory(community=world.c1, project=project, resident_phone="13800000002")
    assert set(services.project_beneficiaries(project)) == {
        outputs.phone_key("13800000001"),
        outputs.phone_key("13800000002"),
    }


def test_a_rejected_demand_serves_nobody(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    DemandFactory(
        community=world.c1, project=project, status=DemandStatus.REJECTED, reject_reason="x"
    )
    assert list(services.project_beneficiaries(project)) == []


def test_demands_are_a_registered_source_of_beneficiaries(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    DemandFactory(community=world.c1, project=project, resident_phone="13800000003")
    assert outputs.phone_key("13800000003") in outputs.beneficiaries(project)


def test_a_project_that_does_not_serve_the_community_is_refused(world: World) -> None:
    project = project_in(world.d2, world.c2, world.o2)
    with pytest.raises(ValidationError) as exc:
        _record(world, role=Role.FEDERATION_STAFF, project=project)
    assert exc.value.message_dict["project"] == ["该服务项目不服务于所选社区。"]
