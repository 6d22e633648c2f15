"""Area history: reports for past periods group communities by the structure of that time."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone

from sanlian.core.roles import Role
from sanlian.organizations import services
from sanlian.organizations.models import (
    Community,
    CommunityAreaPeriod,
    community_area_at,
)

from ..conftest import World

pytestmark = pytest.mark.django_db

SINCE = dt.date(2020, 1, 1)
X = dt.date(2025, 6, 1)


@pytest.fixture
def moved(world: World) -> World:
    """C1 has belonged to S1/D1 since 2020; on X it moved to S2/D2 (a city decision)."""
    CommunityAreaPeriod.objects.filter(community__in=[world.c1, world.c2]).update(valid_from=SINCE)
    services.community_move(
        community=world.c1,
        street=world.s2,
        by=world.users[Role.FEDERATION_STAFF],
        effective_on=X,
    )
    return world


def test_before_the_move_c1_was_under_s1_and_d1(moved: World) -> None:
    area = community_area_at(moved.c1, X - dt.timedelta(days=1))
    assert (area.street, area.district) == (moved.s1, moved.d1)


def test_from_the_move_on_c1_is_under_s2_and_d2(moved: World) -> None:
    area = community_area_at(moved.c1, X)
    assert (area.street, area.district) == (moved.s2, moved.d2)


def test_before_its_first_period_a_community_counts_where_it_was_entered(moved: World) -> None:
    area = community_area_at(moved.c1, dt.date(2010, 1, 1))
    assert area.street == moved.s1


def test_a_report_for_a_past_date_groups_by_the_old_districts(moved: World) -> None:
    rows = (
        Community.objects.filter(pk__in=[moved.c1.pk, moved.c2.pk])
        .with_area_at(X - dt.timedelta(days=1))
        .values("area_district_id")
        .annotate(n=Count("pk"))
        .order_by("area_district_id")
    )
    assert {r["area_district_id"]: r["n"] for r in rows} == {moved.d1.pk: 1, moved.d2.pk: 1}


def test_a_report_for_today_groups_by_the_current_districts(moved: World) -> None:
    rows = (
        Community.objects.filter(pk__in=[moved.c1.pk, moved.c2.pk])
        .with_area_at(timezone.localdate())
        .values("area_district_id")
        .annotate(n=Count("pk"))
    )
    assert {r["area_district_id"]: r["n"] for r in rows} == {moved.d2.pk: 2}


def test_the_move_closes_one_period_and_opens_another(moved: World) -> None:
    periods = list(
        CommunityAreaPeriod.objects.filter(community=moved.c1)
        .order_by("valid_from")
        .values_list("street_id", "valid_from", "valid_to")
    )
    assert periods == [(moved.s1.pk, SINCE, X), (moved.s2.pk, X, None)]


def test_a_second_change_on_the_same_day_rewrites_that_days_period(moved: World) -> None:
    services.community_move(
        community=moved.c1,
        street=moved.s1,
        by=moved.users[Role.FEDERATION_STAFF],
        effective_on=X,
    )
    assert CommunityAreaPeriod.objects.filter(community=moved.c1).count() == 2


def test_an_effective_date_before_the_current_period_is_refused(moved: World) -> None:
    with pytest.raises(ValidationError, match="生效日期不能早于现行归属的起始日期 2025-06-01"):
        services.community_move(
            community=moved.c1,
            street=moved.s1,
            by=moved.users[Role.FEDERATION_STAFF],
            effective_on=X - dt.timedelta(days=1),
        )


def test_an_effective_date_in_the_future_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="生效日期不能晚于今天"):
        services.community_move(
            community=world.c1,
            street=world.s2,
            by=world.users[Role.FEDERATION_STAFF],
            effective_on=timezone.localdate() + dt.timedelta(days=1),
        )


def test_a_merged_community_stops_belonging_anywhere_from_the_merge(world: World) -> None:
    CommunityAreaPeriod.objects.filter(community__in=[world.c1, world.c2]).update(valid_from=SINCE)
    services.community_merge(
        source=world.c2, target=world.c1, by=world.users[Role.FEDERATION_STAFF], effective_on=X
    )
    assert CommunityAreaPeriod.objects.get(community=world.c2).valid_to == X


def test_a_merged_community_still_reports_under_its_old_street_for_the_past(
    world: World,
) -> None:
    CommunityAreaPeriod.objects.filter(community__in=[world.c1, world.c2]).update(valid_from=SINCE)
    services.community_merge(
        source=world.c2, target=world.c1, by=world.users[Role.FEDERATION_STAFF], effective_on=X
    )
    assert community_area_at(world.c2, dt.date(2024, 1, 1)).street == world.s2


def test_a_split_community_begins_on_the_effective_date(world: World) -> None:
    CommunityAreaPeriod.objects.filter(community=world.c1).update(valid_from=SINCE)
    result = services.community_split(
        community=world.c1,
        name="凯旋二社区",
        by=world.users[Role.AREA_STAFF],
        person_ids=frozenset({world.people["volunteer"].pk}),
        effective_on=X,
    )
    assert result.new.area_periods.get().valid_from == X
