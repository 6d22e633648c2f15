"""The 资源均衡 page: the measures of the year's ledger over the communities in scope, the
alerts of the area, the settings, and the xlsx export."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from sanlian.core.roles import Role
from sanlian.insights.models import FairnessSettings
from sanlian.insights.services import fairness as services

from ..conftest import World
from ..factories import CommunityFactory
from ..resources.factories import ResourceEntryFactory

pytestmark = pytest.mark.django_db
YEAR = 2025


def _entries(w: World, star: str, weak: str) -> None:
    ResourceEntryFactory(community=w.c1, value=Decimal(star), occurred_on=dt.date(YEAR, 3, 1))
    ResourceEntryFactory(community=w.c2, value=Decimal(weak), occurred_on=dt.date(YEAR, 4, 1))


def test_the_measures_of_two_communities(world: World) -> None:
    # Shares 0.75 and 0.25: Gini = |3−1|·2 / (2·2²·2) = 0.25, HHI = 0.75² + 0.25² = 0.625.
    _entries(world, "3000", "1000")
    report = services.fairness_report(world.users[Role.FEDERATION_STAFF], year=YEAR)
    m = report.measures
    assert m is not None
    assert (round(m.gini, 4), round(m.hhi, 4)) == (0.25, 0.625)


def test_an_area_sees_only_its_communities(world: World) -> None:
    _entries(world, "3000", "1000")
    report = services.fairness_report(world.users[Role.AREA_STAFF], year=YEAR)
    assert [r.label for r in report.overview.rows] == [world.c1.name]


def test_a_year_without_resources_is_explained_not_computed(world: World) -> None:
    report = services.fairness_report(world.users[Role.FEDERATION_STAFF], year=YEAR)
    assert (report.measures, "为零" in report.error) == (None, True)


def test_per_resident_leaves_out_communities_without_population(world: World) -> None:
    _entries(world, "3000", "1000")
    third = CommunityFactory(name="和平社区", street_org=world.s1, tier="ordinary")
    ResourceEntryFactory(community=third, value=Decimal(500), occurred_on=dt.date(YEAR, 5, 1))
    type(world.c2).objects.filter(pk=world.c2.pk).update(population=0)
    report = services.fairness_report(
        world.users[Role.FEDERATION_STAFF], year=YEAR, basis=services.PER_RESIDENT
    )
    assert report.measures is not None, report.error
    assert (report.measures.n, world.c2.name in report.notes[0]) == (2, True)


def test_star_share_over_the_threshold_raises_an_alert(world: World) -> None:
    _entries(world, "9000", "1000")
    report = services.fairness_report(world.users[Role.FEDERATION_STAFF], year=YEAR)
    assert [a.kind for a in report.alerts if a.kind == "star_share"] == ["star_share"]


def test_a_weak_community_without_resources_for_long_raises_an_alert(world: World) -> None:
    ResourceEntryFactory(community=world.c1, value=Decimal(100), occurred_on=dt.date(YEAR, 3, 1))
    report = services.fairness_report(world.users[Role.FEDERATION_STAFF], year=YEAR)
    idle = [a for a in report.alerts if a.kind == "weak_idle"]
    assert [name for name, _last in idle[0].communities] == [world.c2.name]


def test_the_page_shows_the_measures_and_the_formulas(world: World) -> None:
    _entries(world, "3000", "1000")
    client = world.client(Role.FEDERATION_STAFF)
    page = client.get(reverse("insights:fairness"), {"year": YEAR}).content.decode()
    assert ('data-testid="gini">0.250<' in page, "基尼系数" in page, "ln(sᵢ/pᵢ)" in page) == (
        True,
        True,
        True,
    )


def test_the_page_is_closed_to_a_social_organisation(world: World) -> None:
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(reverse("insights:fairness"))
    assert response.status_code == 403


def test_the_export_has_one_row_per_community(world: World) -> None:
    _entries(world, "3000", "1000")
    client = world.client(Role.FEDERATION_STAFF)
    response = client.get(reverse("insights:fairness"), {"year": YEAR, "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    names = sorted(str(row[0]) for row in sheet.iter_rows(min_row=2, values_only=True) if row[0])
    assert names == sorted([world.c1.name, world.c2.name])


def test_the_settings_are_saved_for_the_area(world: World) -> None:
    client = world.client(Role.AREA_STAFF)
    client.post(
        reverse("insights:fairness_settings"), {"star_share_alert": "55", "weak_idle_days": "90"}
    )
    saved = FairnessSettings.objects.get(area=world.d1)
    assert (saved.star_share_alert, saved.weak_idle_days) == (Decimal("0.550"), 90)
