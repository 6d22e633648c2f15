"""Excel out: every list exports its current filters within scope, masked and escaped."""

from __future__ import annotations

from typing import Any

import pytest

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role

from ..conftest import World
from ..factories import PersonFactory, VolunteerFactory
from .factories_imports import read_rows

pytestmark = pytest.mark.django_db


def _export(world: World, role: str, url: str) -> list[tuple[Any, ...]]:
    response = world.client(role).get(url)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return read_rows(response.content)


def _by_name(rows: list[tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    return {r[0]: r for r in rows[1:]}


def test_person_export_masks_the_id_number(world: World) -> None:
    PersonFactory(name="甲", community=world.c1)
    row = _by_name(_export(world, Role.COMMUNITY_CADRE, "/org/people/?format=xlsx"))["甲"]
    assert row[2].count("*") == 10 and len(row[2]) == 18


def test_area_staff_export_full_phone_numbers(world: World) -> None:
    PersonFactory(name="甲", community=world.c1, phone="13911112222")
    row = _by_name(_export(world, Role.COMMUNITY_CADRE, "/org/people/?format=xlsx"))["甲"]
    assert row[3] == "13911112222"


def test_a_social_organisation_exports_masked_phone_numbers(world: World) -> None:
    PersonFactory(name="甲", community=world.c1, employer=world.o1, phone="13911112222")
    row = _by_name(_export(world, Role.SOCIAL_ORG_MANAGER, "/org/people/?format=xlsx"))["甲"]
    assert row[3] == "139****2222"


def test_the_export_keeps_the_lists_filters(world: World) -> None:
    PersonFactory(name="甲", community=world.c1)
    PersonFactory(name="乙", community=world.c1)
    rows = _export(world, Role.COMMUNITY_CADRE, "/org/people/?q=甲&format=xlsx")
    assert list(_by_name(rows)) == ["甲"]


def test_the_export_stays_within_scope(world: World) -> None:
    PersonFactory(name="远方", community=world.c2)
    rows = _export(world, Role.COMMUNITY_CADRE, "/org/people/?format=xlsx")
    assert "远方" not in _by_name(rows)


def test_a_formula_in_a_name_is_escaped(world: World) -> None:
    PersonFactory(name="=cmd|' /C calc'!A0", community=world.c1)
    rows = _export(world, Role.COMMUNITY_CADRE, "/org/people/?format=xlsx")
    assert "'=cmd|' /C calc'!A0" in _by_name(rows)


def test_an_export_is_audited_with_its_filters_and_size(world: World) -> None:
    PersonFactory(name="甲", community=world.c1)
    world.client(Role.COMMUNITY_CADRE).get("/org/people/?q=甲&format=xlsx")
    entry = AuditEntry.objects.get(action="export", object_type="organizations.Person")
    assert entry.changes == {"filters": {"q": "甲"}, "rows": 1}


def test_the_community_export_is_audited(world: World) -> None:
    rows = _export(world, Role.COMMUNITY_CADRE, "/org/communities/?format=xlsx")
    assert [r[2] for r in rows[1:]] == ["凯旋社区"]
    assert AuditEntry.objects.filter(
        action="export", object_type="organizations.Community"
    ).exists()


def test_the_social_worker_export_is_scoped(world: World) -> None:
    rows = _export(world, Role.SOCIAL_ORG_MANAGER, "/org/social-workers/?format=xlsx")
    assert [r[:2] for r in rows[1:]] == [("社工本人", "阳光社工中心")]


def test_the_volunteer_export_reads_availability_as_text(world: World) -> None:
    person = PersonFactory(name="乐乐", community=world.c1, phone="13922223333")
    VolunteerFactory(person=person, team=world.t1, availability=["5:am", "6:pm"])
    row = _by_name(_export(world, Role.COMMUNITY_CADRE, "/org/volunteers/?format=xlsx"))["乐乐"]
    assert row[1:5] == ("13922223333", "凯旋志愿队", "助老", "周六上午、周日下午")
