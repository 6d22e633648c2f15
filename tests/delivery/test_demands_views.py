"""The demand pages: the resident's public page and status link, staff intake with the routing
suggestion, the list with its filters and export, a demand's page and its steps, the rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from sanlian.core.roles import Role
from sanlian.delivery.models import (
    Demand,
    DemandCategory,
    DemandChannel,
    DemandStatus,
    RoutingRule,
)

from ..conftest import World
from .factories_demands import DemandFactory, RoutingRuleFactory

pytestmark = pytest.mark.django_db

PUBLIC = reverse("delivery:demand_public")
LIST = reverse("delivery:demand_list")


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _public_post(world: World, **fields: Any) -> Any:
    data = {
        "community": world.c1.pk,
        "category": DemandCategory.NEIGHBOUR,
        "resident_name": "孙阿姨",
        "resident_phone": "139 0000 3333",
        "description": "楼上装修噪音扰民",
    }
    data.update(fields)
    return Client().post(PUBLIC, data)


# ---- public pages ----------------------------------------------------------------------------


def test_the_public_page_opens_without_an_account(world: World) -> None:
    response = Client().get(PUBLIC)
    assert response.status_code == 200
    assert "反映诉求" in response.content.decode()


def test_a_resident_submits_and_lands_on_the_status_page(world: World) -> None:
    response = _public_post(world)
    demand = Demand.objects.get()
    assert response["Location"] == demand.public_url() + "?new=1"
    assert (demand.resident_phone, demand.channel) == ("13900003333", DemandChannel.PUBLIC_PAGE)


def test_an_invalid_phone_is_refused_in_chinese(world: World) -> None:
    response = _public_post(world, resident_phone="12345")
    assert response.status_code == 200
    assert "手机号码 12345 无效" in response.content.decode()
    assert not Demand.objects.exists()


def test_a_description_over_the_limit_is_refused(world: World) -> None:
    response = _public_post(world, description="长" * 100_000)
    assert "内容过长" in response.content.decode()
    assert not Demand.objects.exists()


def test_html_in_a_demand_is_shown_as_text(world: World) -> None:
    _public_post(world, description="<script>alert(1)</script>")
    demand = Demand.objects.get()
    page = world.client(Role.COMMUNITY_CADRE).get(demand.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_public_page_refuses_beyond_the_limit_per_address(world: World) -> None:
    for _ in range(5):
        _public_post(world)
    response = _public_post(world)
    assert "提交过于频繁" in response.content.decode()
    assert Demand.objects.count() == 5


def test_the_status_page_shows_status_and_reply_but_not_the_demand(world: World) -> None:
    demand = DemandFactory(community=world.c1, public_reply="已联系物业，本周内维修")
    page = Client().get(demand.public_url()).content.decode()
    assert "待受理" in page and "已联系物业，本周内维修" in page
    assert demand.resident_phone not in page and demand.description not in page


def test_an_unknown_link_is_not_found(world: World) -> None:
    assert Client().get(reverse("delivery:demand_status", args=["nope"])).status_code == 404


def test_the_resident_rates_a_resolved_demand_on_the_status_page(world: World) -> None:
    demand = DemandFactory(community=world.c1, handler_org=world.o1, status=DemandStatus.RESOLVED)
    response = Client().post(demand.public_url(), {"satisfaction": "5", "comment": "好"})
    demand.refresh_from_db()
    assert response.status_code == 302
    assert (demand.status, demand.satisfaction) == (DemandStatus.CLOSED, 5)


def test_a_demand_not_yet_resolved_cannot_be_rated(world: World) -> None:
    demand = DemandFactory(community=world.c1)
    response = Client().post(demand.public_url(), {"satisfaction": "5"})
    assert "该诉求当前不能评价。" in response.content.decode()
    demand.refresh_from_db()
    assert demand.satisfaction is None


# ---- intake ----------------------------------------------------------------------------------


def test_staff_record_a_demand_routed_by_the_rule(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, community=world.c1, organization=world.o1)
    response = world.client(Role.COMMUNITY_CADRE).post(
        reverse("delivery:demand_create"),
        {
            "community": world.c1.pk,
            "category": DemandCategory.PROPERTY,
            "channel": DemandChannel.HOTLINE,
            "resident_name": "周师傅",
            "resident_phone": "13700001234",
            "description": "小区停车位纠纷",
        },
    )
    demand = Demand.objects.get()
    assert response["Location"] == demand.get_absolute_url()
    assert (demand.handler_org, demand.channel) == (world.o1, DemandChannel.HOTLINE)


def test_the_suggestion_part_names_the_rule(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, community=world.c1, organization=world.o1)
    response = world.client(Role.COMMUNITY_CADRE).get(
        reverse("delivery:demand_suggest"),
        {"community": world.c1.pk, "category": DemandCategory.PROPERTY},
    )
    page = response.content.decode()
    assert "阳光社工中心" in page and "规则" in page


def test_a_volunteer_cannot_open_the_demands(world: World) -> None:
    assert world.client(Role.VOLUNTEER).get(LIST).status_code == 403


# ---- list ------------------------------------------------------------------------------------


def test_the_list_shows_only_demands_in_scope(world: World) -> None:
    near = DemandFactory(community=world.c1)
    far = DemandFactory(community=world.c2)
    page = world.client(Role.AREA_STAFF).get(LIST).content.decode()
    assert near.number in page and far.number not in page


def test_the_overdue_filter_keeps_the_overdue_ones(world: World) -> None:
    late = DemandFactory(community=world.c1, received_at=timezone.now() - dt.timedelta(days=10))
    fresh = DemandFactory(community=world.c1)
    page = world.client(Role.COMMUNITY_CADRE).get(LIST, {"overdue": "on"}).content.decode()
    assert late.number in page and fresh.number not in page


def test_the_list_counts_overdue_demands_in_its_header(world: World) -> None:
    DemandFactory(community=world.c1, received_at=timezone.now() - dt.timedelta(days=10))
    page = world.client(Role.COMMUNITY_CADRE).get(LIST).content.decode()
    assert "超期 1 件" in page


def test_the_list_exports_to_xlsx_with_masked_phones_for_an_organisation(world: World) -> None:
    from openpyxl import load_workbook

    DemandFactory(community=world.c1, handler_org=world.o1, resident_phone="13812345678")
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(LIST, {"format": "xlsx"})
    import io

    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[1][6] == "138****5678"


# ---- one demand ------------------------------------------------------------------------------


def test_a_demand_outside_the_area_is_not_found(world: World) -> None:
    far = DemandFactory(community=world.c2)
    assert world.client(Role.AREA_STAFF).get(far.get_absolute_url()).status_code == 404


def test_staff_accept_a_demand_from_its_page(world: World) -> None:
    demand = DemandFactory(community=world.c1, handler_org=world.o1)
    client = world.client(Role.SOCIAL_WORKER)
    response = client.post(reverse("delivery:demand_action", args=[demand.pk, "accept"]))
    demand.refresh_from_db()
    assert response.status_code == 302
    assert demand.status == DemandStatus.ACCEPTED


def test_a_refused_step_is_explained_on_the_page(world: World) -> None:
    demand = DemandFactory(community=world.c1, handler_org=world.o1)
    response = world.client(Role.COMMUNITY_CADRE).post(
        reverse("delivery:demand_action", args=[demand.pk, "resolve"]),
        {"resolve-resolution": "已处理"},
    )
    assert response.status_code == 400
    assert "当前状态为“待受理”，不能执行“办结”" in response.content.decode()


def test_a_reroute_without_a_reason_shows_the_field_error(world: World) -> None:
    demand = DemandFactory(community=world.c1, handler_org=world.o1)
    response = world.client(Role.COMMUNITY_CADRE).post(
        reverse("delivery:demand_action", args=[demand.pk, "reroute"]),
        {"reroute-organization": world.party1.pk},
    )
    assert "请填写改派原因。" in response.content.decode()
    demand.refresh_from_db()
    assert demand.handler_org == world.o1


def test_staff_close_with_the_satisfaction_from_the_call_back(world: World) -> None:
    demand = DemandFactory(community=world.c1, handler_org=world.o1, status=DemandStatus.RESOLVED)
    world.client(Role.COMMUNITY_CADRE).post(
        reverse("delivery:demand_action", args=[demand.pk, "close"]),
        {"close-satisfaction": "4"},
    )
    demand.refresh_from_db()
    assert (demand.status, demand.satisfaction) == (DemandStatus.CLOSED, 4)


def test_the_page_shows_the_timeline(world: World) -> None:
    demand = DemandFactory(community=world.c1, handler_org=world.o1)
    world.client(Role.COMMUNITY_CADRE).post(
        reverse("delivery:demand_action", args=[demand.pk, "note"]),
        {"note-note": "已上门了解情况"},
    )
    page = world.client(Role.COMMUNITY_CADRE).get(demand.get_absolute_url()).content.decode()
    assert "已上门了解情况" in page


def test_an_unknown_action_is_not_found(world: World) -> None:
    demand = DemandFactory(community=world.c1)
    url = reverse("delivery:demand_action", args=[demand.pk, "explode"])
    assert world.client(Role.COMMUNITY_CADRE).post(url).status_code == 404


# ---- rules -----------------------------------------------------------------------------------


def test_area_staff_add_a_rule(world: World) -> None:
    response = world.client(Role.AREA_STAFF).post(
        reverse("delivery:demand_rules"),
        {"category": DemandCategory.LABOUR, "organization": world.o1.pk, "street": world.s1.pk},
    )
    assert response.status_code == 302
    assert RoutingRule.objects.get().street == world.s1


def test_a_community_cadre_sees_the_rules_but_cannot_add_one(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, organization=world.o1)
    client = world.client(Role.COMMUNITY_CADRE)
    assert "阳光社工中心" in client.get(reverse("delivery:demand_rules")).content.decode()
    response = client.post(
        reverse("delivery:demand_rules"),
        {"category": DemandCategory.LABOUR, "organization": world.o1.pk},
    )
    assert response.status_code == 403


# ---- home badge ------------------------------------------------------------------------------


def test_the_home_badge_counts_overdue_demands_in_scope(world: World) -> None:
    DemandFactory(community=world.c1, received_at=timezone.now() - dt.timedelta(days=10))
    DemandFactory(community=world.c2, received_at=timezone.now() - dt.timedelta(days=10))
    request = RequestFactory().get("/")
    request.user = world.users[Role.AREA_STAFF]
    html = Template('{% include "delivery/demands/_home_badge.html" %}').render(
        Context({"request": request})
    )
    assert 'data-testid="demand-overdue-badge">1<' in html


def test_the_intake_page_opens_with_the_channels(world: World) -> None:
    page = world.client(Role.COMMUNITY_CADRE).get(reverse("delivery:demand_create")).content
    assert "热线" in page.decode()


def test_a_resolved_demand_offers_the_call_back_form(world: World) -> None:
    demand = DemandFactory(community=world.c1, handler_org=world.o1, status=DemandStatus.RESOLVED)
    page = world.client(Role.COMMUNITY_CADRE).get(demand.get_absolute_url()).content.decode()
    assert 'name="close-satisfaction"' in page


def test_an_area_user_is_offered_the_reroute_with_the_suggestion(world: World) -> None:
    RoutingRuleFactory(owner=world.s1, community=world.c1, organization=world.o1)
    demand = DemandFactory(community=world.c1, handler_org=world.party1)
    page = world.client(Role.COMMUNITY_CADRE).get(demand.get_absolute_url()).content.decode()
    assert 'name="reroute-organization"' in page and "系统建议" in page
