"""试点评估: creating a batch, entering values (a bad number keeps everything on the page),
the difference-in-differences on the page, and the ranking of the next pilots."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from sanlian.core.roles import Role
from sanlian.insights.models import PilotBatch, PilotValue
from sanlian.insights.services import pilots as services
from sanlian.insights.services.common import count_per_community

from ..conftest import World
from ..factories import CommunityFactory

pytestmark = pytest.mark.django_db


def _batch(w: World) -> PilotBatch:
    comparisons = [
        CommunityFactory(name=f"对照{i}社区", street_org=w.s1, tier=tier)
        for i, tier in enumerate(["star", "weak", "weak"])
    ]
    return services.pilot_create(
        by=w.users[Role.FEDERATION_STAFF],
        name="第一批试点",
        starts_on=dt.date(2025, 1, 1),
        pilots=[w.c1, w.c2],
        comparisons=comparisons,
        indicators=[("会员发展率", "%", True)],
    )


def _values(batch: PilotBatch, by: object, rows: dict[str, tuple[str, str]]) -> None:
    indicator = batch.indicators.get()
    names = {c.name: c.pk for c, _pilot in services.batch_communities(batch)}
    values = {}
    for name, (before, after) in rows.items():
        values[(names[name], "baseline")] = Decimal(before)
        values[(names[name], "follow_up")] = Decimal(after)
    services.values_save(indicator=indicator, by=by, values=values)  # type: ignore[arg-type]


def test_the_effect_is_the_difference_of_the_changes(world: World) -> None:
    # Pilots rise by 10 and 12 (mean 11); comparisons by 1, 2, 3 (mean 2): effect 9.
    batch = _batch(world)
    _values(batch, world.users[Role.FEDERATION_STAFF], {
        "凯旋社区": ("20", "30"), "丽都社区": ("10", "22"),
        "对照0社区": ("15", "16"), "对照1社区": ("11", "13"), "对照2社区": ("12", "15"),
    })  # fmt: skip
    evaluation = services.evaluate(batch.indicators.get())
    assert evaluation.overall is not None
    assert round(evaluation.overall.effect, 6) == 9


def test_a_batch_without_comparisons_is_explained(world: World) -> None:
    batch = services.pilot_create(
        by=world.users[Role.FEDERATION_STAFF], name="无对照", starts_on=dt.date(2025, 1, 1),
        pilots=[world.c1, world.c2], indicators=[("满意度", "分", True)],
    )  # fmt: skip
    _values(
        batch, world.users[Role.FEDERATION_STAFF], {"凯旋社区": ("1", "2"), "丽都社区": ("2", "4")}
    )
    evaluation = services.evaluate(batch.indicators.get())
    assert (evaluation.overall, "对照" in evaluation.error) == (None, True)


def test_a_comparison_cannot_also_be_a_pilot(world: World) -> None:
    with pytest.raises(Exception, match="对照社区不能同时是试点社区"):
        services.pilot_create(
            by=world.users[Role.FEDERATION_STAFF], name="重复", starts_on=dt.date(2025, 1, 1),
            pilots=[world.c1], comparisons=[world.c1],
        )  # fmt: skip


def test_an_area_cannot_pilot_a_community_outside_it(world: World) -> None:
    with pytest.raises(Exception, match="不在您的管理范围内"):
        services.pilot_create(
            by=world.users[Role.AREA_STAFF], name="越界", starts_on=dt.date(2025, 1, 1),
            pilots=[world.c2],
        )  # fmt: skip


def test_a_bad_number_keeps_the_page_and_saves_nothing(world: World) -> None:
    batch = _batch(world)
    indicator = batch.indicators.get()
    client = world.client(Role.FEDERATION_STAFF)
    url = reverse("insights:pilot_values", args=[batch.pk, indicator.pk])
    response = client.post(
        url, {f"v-{world.c1.pk}-baseline": "12", f"v-{world.c2.pk}-baseline": "十二"}
    )
    page = response.content.decode()
    assert (response.status_code, "不是数字" in page, 'value="12"' in page) == (400, True, True)
    assert PilotValue.objects.count() == 0


def test_the_page_shows_the_effect_by_tier(world: World) -> None:
    batch = _batch(world)
    _values(batch, world.users[Role.FEDERATION_STAFF], {
        "凯旋社区": ("20", "30"), "丽都社区": ("10", "22"),
        "对照0社区": ("15", "16"), "对照1社区": ("11", "13"), "对照2社区": ("12", "15"),
    })  # fmt: skip
    page = world.client(Role.FEDERATION_STAFF).get(batch.get_absolute_url()).content.decode()
    assert ("估计效果：9.00" in page, 'data-testid="tier-effects"' in page) == (True, True)


def test_the_list_ranks_communities_not_yet_in_a_pilot(world: World) -> None:
    _batch(world)
    ranking, error = services.rank_next_pilots(world.users[Role.FEDERATION_STAFF])
    assert error == ""
    ranked = {r.label for r in ranking}
    assert (world.c1.name in ranked, "对照0社区" in ranked) == (False, True)


def test_the_pilot_pages_are_closed_to_a_cadre(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(reverse("insights:pilots"))
    assert response.status_code == 403


def test_a_batch_is_created_from_the_page(world: World) -> None:
    client = world.client(Role.FEDERATION_STAFF)
    response = client.post(reverse("insights:pilots"), {
        "name": "页面批次", "starts_on": "2025-03-01", "pilots": [world.c1.pk],
        "comparisons": [world.c2.pk], "indicators": "会员发展率,%\n投诉数,件,越低越好",
    })  # fmt: skip
    batch = PilotBatch.objects.get(name="页面批次")
    indicators = list(batch.indicators.values_list("name", "higher_is_better"))
    assert (response.status_code, indicators) == (302, [("会员发展率", True), ("投诉数", False)])


def test_rows_are_counted_in_the_community_they_lie_in(world: World) -> None:
    from sanlian.organizations.models import Organization, OrgKind

    communities = [world.c1, world.c2]
    paths = {c.organization.path: c.pk for c in communities}
    counted = count_per_community(
        Organization.objects.filter(kind=OrgKind.SOCIAL_ORG), "path", paths
    )
    assert dict(counted) == {world.c1.pk: 1, world.c2.pk: 1}
