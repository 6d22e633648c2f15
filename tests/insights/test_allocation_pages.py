"""预算分配: a scenario over the applications of a call, solved exactly, compared with the
review-score baseline, contradictory rules explained, and the pages within scope."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from sanlian.core.roles import Role
from sanlian.insights.models import AllocationScenario
from sanlian.insights.services import allocation as services

from ..conftest import World
from ..resources.factories import ApplicationFactory, BudgetPoolFactory, ProjectCallFactory

pytestmark = pytest.mark.django_db


def _call(w: World) -> object:
    call = ProjectCallFactory(pool=BudgetPoolFactory(owner=w.city))
    # Weak C2 (need 1.0) and star C1 (need 0.4). Benefits: A 100·0.4·0.9 = 36,
    # B 80·1.0·0.8 = 64, C 60·1.0·0.7 = 42. A budget of 200,000 funds two of the three
    # 100,000 projects: the optimum is B + C (106); by review score it is A + B (100).
    for title, community, org, score, people in [
        ("A", w.c1, w.o1, "90", 100), ("B", w.c2, w.o2, "80", 80), ("C", w.c2, w.o2, "70", 60),
    ]:  # fmt: skip
        ApplicationFactory(
            call=call, organization=org, title=title, amount=Decimal("100000.00"),
            beneficiaries=people, average_score=Decimal(score), communities=[community],
        )  # fmt: skip
    return call


def test_the_optimum_beats_the_review_score_baseline(world: World) -> None:
    scenario = services.scenario_run(
        by=world.users[Role.FEDERATION_STAFF], call=_call(world), name="s", budget=Decimal(200000)
    )  # type: ignore[arg-type]
    solved, baseline = scenario.result["solved"], scenario.result["by_review"]
    titles = scenario.result["labels"]
    assert sorted(titles[str(i)] for i in solved["chosen"]) == ["B", "C"]
    assert (round(solved["objective"], 6), round(baseline["objective"], 6)) == (106, 100)


def test_contradictory_rules_are_explained(world: World) -> None:
    call = _call(world)
    ids = list(call.applications.values_list("pk", flat=True))  # type: ignore[attr-defined]
    scenario = services.scenario_run(
        by=world.users[Role.FEDERATION_STAFF], call=call, name="冲突", budget=Decimal(150000),
        must_fund=ids[:2],
    )  # type: ignore[arg-type]  # fmt: skip
    assert ("solved" not in scenario.result, "预算" in " ".join(scenario.result["details"])) == (
        True,
        True,
    )


def test_the_page_solves_and_shows_the_comparison(world: World) -> None:
    call = _call(world)
    client = world.client(Role.FEDERATION_STAFF)
    response = client.post(
        reverse("insights:allocation"),
        {"call": call.pk, "name": "方案一", "budget": "200000", "weak_floor": "50"},  # type: ignore[attr-defined]
    )
    scenario = AllocationScenario.objects.get()
    page = client.get(scenario.get_absolute_url()).content.decode()
    assert (response.status_code, 'data-testid="comparison"' in page, "已证明为最优解" in page) == (
        302,
        True,
        True,
    )


def test_allocation_is_closed_to_a_social_organisation(world: World) -> None:
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(reverse("insights:allocation"))
    assert response.status_code == 403
