"""Pages of 组织联建: scoped lists and details, masked exports, audited reveals."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from openpyxl import load_workbook

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role

from ..conftest import World
from ..factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_community_outside_scope_is_404(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(f"/org/communities/{world.c2.pk}/")
    assert response.status_code == 404


def test_community_inside_scope_is_shown(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(f"/org/communities/{world.c1.pk}/")
    assert "凯旋社区" in response.content.decode()


def test_person_outside_scope_is_404(world: World) -> None:
    far = PersonFactory(community=world.c2)
    response = world.client(Role.AREA_STAFF).get(f"/org/people/{far.pk}/")
    assert response.status_code == 404


def test_edit_outside_scope_is_404(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).post(
        f"/org/communities/{world.c2.pk}/edit/", {"name": "x", "expected_version": 1}
    )
    assert response.status_code == 404


def test_social_worker_cannot_edit_a_community(world: World) -> None:
    response = world.client(Role.SOCIAL_WORKER).get(f"/org/communities/{world.c1.pk}/edit/")
    assert response.status_code == 403


def test_person_list_shows_masked_id_numbers(world: World) -> None:
    person = PersonFactory(community=world.c1)
    body = world.client(Role.COMMUNITY_CADRE).get("/org/people/").content.decode()
    assert person.id_number_masked in body and person.id_number() not in body


def test_person_list_shows_full_phones_to_area_staff(world: World) -> None:
    PersonFactory(community=world.c1, employer=world.o1, phone="13912345678")
    body = world.client(Role.COMMUNITY_CADRE).get("/org/people/").content.decode()
    assert "13912345678" in body


def test_person_list_masks_phones_for_a_social_organisation(world: World) -> None:
    PersonFactory(community=world.c1, employer=world.o1, phone="13912345678")
    body = world.client(Role.SOCIAL_ORG_MANAGER).get("/org/people/").content.decode()
    assert ("139****5678" in body, "13912345678" in body) == (True, False)


def test_person_page_masks_the_phone_for_a_social_organisation(world: World) -> None:
    person = PersonFactory(community=world.c1, employer=world.o1, phone="13912345678")
    body = world.client(Role.SOCIAL_ORG_MANAGER).get(f"/org/people/{person.pk}/").content
    assert b"13912345678" not in body


def test_person_found_by_exact_id_number(world: World) -> None:
    person = PersonFactory(community=world.c1)
    PersonFactory(community=world.c1)
    response = world.client(Role.COMMUNITY_CADRE).get("/org/people/", {"q": person.id_number()})
    assert [p.pk for p in response.context["page"]] == [person.pk]


def test_reveal_full_id_number_is_audited(world: World) -> None:
    person = PersonFactory(community=world.c1)
    world.client(Role.COMMUNITY_CADRE).post(f"/org/people/{person.pk}/", {"reveal": "id_number"})
    entry = AuditEntry.objects.filter(action="view").get()
    assert (entry.object_id, entry.actor_name) == (str(person.pk), Role.COMMUNITY_CADRE)


def _sheet_rows(content: bytes) -> list[tuple[object, ...]]:
    ws = load_workbook(io.BytesIO(content), read_only=True).active
    return list(ws.iter_rows(values_only=True))


def test_people_export_is_scoped_and_masked(world: World) -> None:
    near = PersonFactory(community=world.c1, name="近处居民")
    PersonFactory(community=world.c2, name="远处居民")
    response = world.client(Role.AREA_STAFF).get("/org/people/", {"format": "xlsx"})
    rows = _sheet_rows(response.content)
    names = {r[0] for r in rows[1:]}
    assert (
        "近处居民" in names
        and "远处居民" not in names
        and (near.id_number_masked in {r[2] for r in rows})
    )


def test_export_escapes_formula_cells(world: World) -> None:
    PersonFactory(community=world.c1, name='=HYPERLINK("http://x")')
    response = world.client(Role.COMMUNITY_CADRE).get("/org/people/", {"format": "xlsx"})
    names = [r[0] for r in _sheet_rows(response.content)[1:]]
    assert '\'=HYPERLINK("http://x")' in names


def test_export_is_audited(world: World) -> None:
    world.client(Role.COMMUNITY_CADRE).get("/org/communities/", {"format": "xlsx"})
    assert (
        AuditEntry.objects.filter(action="export", object_type="organizations.Community").count()
        == 1
    )


def test_tree_shows_only_the_users_subtree(world: World) -> None:
    body = world.client(Role.AREA_STAFF).get("/org/tree/").content.decode()
    assert "凯旋社区联合工会" in body and "丽都社区联合工会" not in body


@pytest.mark.parametrize(
    "role",
    [
        Role.FEDERATION_STAFF,
        Role.AREA_STAFF,
        Role.COMMUNITY_CADRE,
        Role.PARTY_SECRETARY,
        Role.SOCIAL_ORG_MANAGER,
        Role.SOCIAL_WORKER,
        Role.VOLUNTEER,
        Role.EVALUATOR,
        Role.SYSTEM_ADMIN,
        Role.SECURITY_ADMIN,
        Role.AUDIT_ADMIN,
    ],
)
def test_home_page_names_the_users_organisation(world: World, role: str) -> None:
    main = world.client(role).get("/").content.decode().split("<main", 1)[1]
    assert world.users[role].organization.name in main  # type: ignore[union-attr]


def test_a_large_areas_home_counts_are_kept_a_while_and_say_when_a_community_counts_live(
    world: World,
) -> None:
    district, cadre = world.client(Role.AREA_STAFF), world.client(Role.COMMUNITY_CADRE)
    before = (
        district.get("/").context["summary"].people,
        cadre.get("/").context["summary"].people,
    )
    PersonFactory(community=world.c1)
    district_page, cadre_page = district.get("/"), cadre.get("/")
    kept, live = district_page.context["summary"], cadre_page.context["summary"]
    assert (kept.people, live.people) == (before[0], before[1] + 1)
    assert kept.counted_at is not None and live.counted_at is None
    assert "以上数字统计于" in district_page.content.decode()
    assert "以上数字统计于" not in cadre_page.content.decode()
    cache.clear()  # five minutes later
    assert district.get("/").context["summary"].people == before[0] + 1


def test_unbuilt_sections_are_not_in_the_navigation(world: World) -> None:
    body = world.client(Role.FEDERATION_STAFF).get("/").content.decode()
    # 服务联动 is built now (issue 5): its section shows as well.
    assert "组织联建" in body and "资源联合</div>" in body and "服务联动</div>" in body
