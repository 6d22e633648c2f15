"""The 数据分析 API: fairness, tier assessments and decisions, allocation scenarios, pilots
and the next pilots, with the pages' forms and rules; 403 outside the roles, 404 outside
the scope."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from sanlian.core.roles import Role

from ..conftest import World
from ..factories import CommunityFactory
from ..resources.factories import (
    ApplicationFactory,
    BudgetPoolFactory,
    ProjectCallFactory,
    ResourceEntryFactory,
    project_in,
)

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: Any, method: str = "post") -> Any:
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def test_fairness_gives_the_measures(world: World) -> None:
    ResourceEntryFactory(community=world.c1, value=Decimal(3000), occurred_on=dt.date(2025, 3, 1))
    ResourceEntryFactory(community=world.c2, value=Decimal(1000), occurred_on=dt.date(2025, 3, 1))
    body = world.client(Role.FEDERATION_STAFF).get("/api/insights/fairness?year=2025").json()
    assert (round(body["measures"]["gini"], 4), len(body["tiers"])) == (0.25, 3)


def test_a_social_organisation_may_not_use_the_analysis_api(world: World) -> None:
    response = world.client(Role.SOCIAL_ORG_MANAGER).get("/api/insights/fairness")
    assert response.status_code == 403


def test_a_tier_assessment_and_a_decision(world: World) -> None:
    CommunityFactory(name="第三社区", street_org=world.s1, tier="ordinary", population=3000)
    client = world.client(Role.FEDERATION_STAFF)
    created = _post(client, "/api/insights/tier-assessments", {"keys": ["venues", "social_orgs"]})
    detail = client.get(f"/api/insights/tier-assessments/{created.json()['id']}").json()
    first = detail["proposals"][0]
    decided = _post(
        client, f"/api/insights/tier-proposals/{first['id']}/decide",
        {"tier": first["proposed_tier"]},
    )  # fmt: skip
    assert (created.status_code, decided.json()["decision"]) == (201, "accepted")


def test_an_override_without_reason_is_refused_in_chinese(world: World) -> None:
    CommunityFactory(name="第三社区", street_org=world.s1, tier="ordinary", population=3000)
    client = world.client(Role.FEDERATION_STAFF)
    created = _post(client, "/api/insights/tier-assessments", {"keys": ["venues", "social_orgs"]})
    first = client.get(f"/api/insights/tier-assessments/{created.json()['id']}").json()[
        "proposals"
    ][0]
    other = "weak" if first["proposed_tier"] != "weak" else "star"
    response = _post(client, f"/api/insights/tier-proposals/{first['id']}/decide", {"tier": other})
    assert (response.status_code, "理由" in json.dumps(response.json(), ensure_ascii=False)) == (
        400,
        True,
    )


def test_an_allocation_scenario_is_solved(world: World) -> None:
    call = ProjectCallFactory(pool=BudgetPoolFactory(owner=world.city))
    for title, c, org in [("A", world.c1, world.o1), ("B", world.c2, world.o2)]:
        ApplicationFactory(
            call=call, organization=org, title=title, amount=Decimal(100000),
            average_score=Decimal(80), communities=[c],
        )  # fmt: skip
    client = world.client(Role.FEDERATION_STAFF)
    response = _post(
        client, "/api/insights/allocation-scenarios",
        {"call_id": call.pk, "budget": "100000", "weak_floor": "50"},
    )  # fmt: skip
    chosen = response.json()["result"]["solved"]["chosen"]
    titles = response.json()["result"]["labels"]
    assert (response.status_code, [titles[str(i)] for i in chosen]) == (201, ["B"])


def test_a_call_outside_the_scope_is_not_found(world: World) -> None:
    call = ProjectCallFactory(pool=BudgetPoolFactory(owner=world.d2))
    response = _post(
        world.client(Role.AREA_STAFF), "/api/insights/allocation-scenarios",
        {"call_id": call.pk, "budget": "100000"},
    )  # fmt: skip
    assert response.status_code == 404


def test_a_pilot_with_values_and_its_evaluation(world: World) -> None:
    others = [CommunityFactory(name=f"对照{i}", street_org=world.s1, tier="weak") for i in range(2)]
    client = world.client(Role.FEDERATION_STAFF)
    batch = _post(client, "/api/insights/pilots", {
        "name": "试点", "starts_on": "2025-01-01", "pilot_ids": [world.c1.pk, world.c2.pk],
        "comparison_ids": [c.pk for c in others],
        "indicators": [{"name": "会员率", "unit": "%", "higher_is_better": True}],
    }).json()  # fmt: skip
    indicator = batch["indicators"][0]["id"]
    values = []
    for cid, before, after in [(world.c1.pk, 10, 20), (world.c2.pk, 12, 24),
                               (others[0].pk, 10, 12), (others[1].pk, 11, 12)]:  # fmt: skip
        values += [{"community_id": cid, "period": "baseline", "value": before},
                   {"community_id": cid, "period": "follow_up", "value": after}]  # fmt: skip
    saved = _post(client, f"/api/insights/pilots/{batch['id']}/indicators/{indicator}/values",
                  values, method="put")  # fmt: skip
    detail = client.get(f"/api/insights/pilots/{batch['id']}").json()
    # Pilots +10 and +12 (mean 11), comparisons +2 and +1 (mean 1.5): effect 9.5.
    assert (saved.json()["saved"], round(detail["evaluations"][0]["overall"]["effect"], 6)) == (
        8,
        9.5,
    )


def test_the_next_pilots_are_ranked(world: World) -> None:
    body = world.client(Role.FEDERATION_STAFF).get("/api/insights/next-pilots").json()
    assert [r["rank"] for r in body] == [1, 2]


def test_the_dashboard_gives_the_tables_of_the_page(world: World) -> None:
    body = world.client(Role.FEDERATION_STAFF).get("/api/insights/dashboard").json()
    keys = {t["key"] for s in body["sections"] for t in s["tables"]}
    assert ("members_profile" in keys, body["area"]["id"]) == (True, world.city.pk)


def test_a_dashboard_outside_the_scope_is_not_found(world: World) -> None:
    response = world.client(Role.AREA_STAFF).get(f"/api/insights/dashboard?area={world.d2.pk}")
    assert response.status_code == 404


def test_the_project_report_as_json(world: World) -> None:
    project = project_in(world.d1, world.c1, world.o1)
    body = world.client(Role.FEDERATION_STAFF).get(f"/api/insights/projects/{project.pk}/report")
    assert (body.status_code, body.json()["identity"]["title"]) == (200, project.title)
