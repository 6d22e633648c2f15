"""The demands API: scoped reads, intake and steps validated by the pages' forms, rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from sanlian.core.roles import Role
from sanlian.delivery.models import DemandCategory, DemandStatus, RoutingRule

from ..conftest import World
from .factories_demands import DemandFactory, RoutingRuleFactory

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _body(world: World, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "community_id": world.c1.pk,
        "category": DemandCategory.LABOUR,
        "channel": "walk_in",
        "resident_name": "吴师傅",
        "resident_phone": "13600001234",
        "description": "公司拖欠三个月工资",
    }
    body.update(fields)
    return body


def test_the_list_holds_only_demands_in_scope(world: World) -> None:
    near = DemandFactory(community=world.c1)
    DemandFactory(community=world.c2)
    items = world.client(Role.AREA_STAFF).get("/api/demands").json()["items"]
    assert [d["id"] for d in items] == [near.pk]


def test_an_organisation_sees_phones_masked(world: World) -> None:
    DemandFactory(community=world.c1, handler_org=world.o1, resident_phone="13812345678")
    items = world.client(Role.SOCIAL_ORG_MANAGER).get("/api/demands").json()["items"]
    assert items[0]["resident_phone"] == "138****5678"


def test_the_list_filters_overdue(world: World) -> None:
    import datetime as dt

    from django.utils import timezone

    late = DemandFactory(community=world.c1, received_at=timezone.now() - dt.timedelta(days=9))
    DemandFactory(community=world.c1)
    items = world.client(Role.COMMUNITY_CADRE).get("/api/demands?overdue=true").json()["items"]
    assert [d["id"] for d in items] == [late.pk]


def test_a_demand_outside_scope_is_not_found(world: World) -> None:
    far = DemandFactory(community=world.c2)
    assert world.client(Role.AREA_STAFF).get(f"/api/demands/{far.pk}").status_code == 404


def test_staff_record_a_demand(world: World) -> None:
    RoutingRuleFactory(owner=world.d1, category=DemandCategory.LABOUR, organization=world.o1)
    response = _post(world.client(Role.COMMUNITY_CADRE), "/api/demands", _body(world))
    assert response.status_code == 201
    assert (response.json()["handler_org_id"], response.json()["routing_source"]) == (
        world.o1.pk,
        "rule",
    )


def test_an_invalid_phone_is_refused_with_the_forms_message(world: World) -> None:
    response = _post(
        world.client(Role.COMMUNITY_CADRE), "/api/demands", _body(world, resident_phone="010-1")
    )
    assert response.status_code == 400
    assert "resident_phone" in response.json()["detail"]


def test_a_community_outside_scope_is_not_found(world: World) -> None:
    response = _post(
        world.client(Role.COMMUNITY_CADRE), "/api/demands", _body(world, community_id=world.c2.pk)
    )
    assert response.status_code == 404


def test_a_step_moves_the_demand_on(world: World) -> None:
    demand = DemandFactory(community=world.c1, handler_org=world.o1)
    response = _post(world.client(Role.SOCIAL_WORKER), f"/api/demands/{demand.pk}/accept", {})
    assert response.json()["status"] == DemandStatus.ACCEPTED
    assert response.json()["events"][-1]["kind"] == "accepted"


def test_a_refused_step_answers_400_in_chinese(world: World) -> None:
    demand = DemandFactory(community=world.c1, handler_org=world.o1)
    response = _post(
        world.client(Role.COMMUNITY_CADRE),
        f"/api/demands/{demand.pk}/close",
        {"satisfaction": 5},
    )
    assert response.status_code == 400
    assert "不能执行“回访关闭”" in response.json()["detail"]["__all__"][0]


def test_a_reroute_to_an_organisation_outside_scope_is_not_found(world: World) -> None:
    demand = DemandFactory(community=world.c1, handler_org=world.o1)
    response = _post(
        world.client(Role.COMMUNITY_CADRE),
        f"/api/demands/{demand.pk}/reroute",
        {"organization_id": world.o2.pk, "reason": "x"},
    )
    assert response.status_code == 404


def test_the_suggestion_endpoint_explains_itself(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, community=world.c1, organization=world.o1)
    body = (
        world.client(Role.COMMUNITY_CADRE)
        .get(f"/api/demands/routing-suggestion?community_id={world.c1.pk}&category=property")
        .json()
    )
    assert (body["organization_id"], body["source_label"]) == (world.o1.pk, "规则")


def test_area_staff_create_a_rule(world: World) -> None:
    response = _post(
        world.client(Role.AREA_STAFF),
        "/api/demand-routing-rules",
        {"category": "legal", "organization_id": world.o1.pk},
    )
    assert response.status_code == 201
    assert RoutingRule.objects.get().owner == world.d1


def test_a_volunteer_is_refused(world: World) -> None:
    assert world.client(Role.VOLUNTEER).get("/api/demands").status_code == 403
