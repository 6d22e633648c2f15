"""Finding people and organisations by name, pinyin, initials, phone and ID number, in scope."""

from __future__ import annotations

import pytest

from sanlian.core.roles import Role
from sanlian.core.services import save_versioned
from sanlian.organizations.models import Community, Organization, OrgKind, Person
from sanlian.organizations.queries import (
    QueryKind,
    community_search,
    organization_search,
    parse_query,
    person_search,
)

from ..conftest import World
from ..factories import OrganizationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def cadre(world: World) -> object:
    return world.users[Role.COMMUNITY_CADRE]


def found(world: World, q: str, role: str = Role.COMMUNITY_CADRE) -> set[str]:
    return set(person_search(world.users[role], q).values_list("name", flat=True))


def test_initials_find_a_person(world: World) -> None:
    PersonFactory(name="张三", community=world.c1)
    assert "张三" in found(world, "zs")


def test_full_pinyin_prefix_finds_a_person(world: World) -> None:
    PersonFactory(name="张三", community=world.c1)
    assert "张三" in found(world, "zhangs")


def test_upper_case_and_spaces_are_ignored(world: World) -> None:
    PersonFactory(name="张三", community=world.c1)
    assert "张三" in found(world, "Zhang San")


def test_surname_heteronym_finds_by_surname_reading(world: World) -> None:
    PersonFactory(name="曾国藩", community=world.c1)
    assert "曾国藩" in found(world, "zgf")


def test_three_chinese_characters_find_part_of_a_name(world: World) -> None:
    PersonFactory(name="欧阳娜娜子", community=world.c1)
    assert "欧阳娜娜子" in found(world, "娜娜子")


def test_two_chinese_characters_find_the_start_of_a_name(world: World) -> None:
    PersonFactory(name="欧阳娜娜", community=world.c1)
    assert "欧阳娜娜" in found(world, "欧阳")


def test_two_chinese_characters_do_not_scan_inside_names(world: World) -> None:
    # A short fragment inside a name would need a city-wide scan; it matches name starts.
    PersonFactory(name="欧阳娜娜", community=world.c1)
    assert "欧阳娜娜" not in found(world, "娜娜")


def test_pinyin_search_stays_within_scope(world: World) -> None:
    PersonFactory(name="张三", community=world.c2)
    assert "张三" not in found(world, "zs")


def test_chinese_search_stays_within_scope(world: World) -> None:
    PersonFactory(name="张三", community=world.c2)
    assert "张三" not in found(world, "张三")


def test_exact_phone_finds_a_person(world: World) -> None:
    PersonFactory(name="李四", phone="13812345678", community=world.c1)
    assert found(world, "+86 138-1234-5678") == {"李四"}


def test_phone_search_stays_within_scope(world: World) -> None:
    PersonFactory(name="李四", phone="13812345678", community=world.c2)
    assert found(world, "13812345678") == set()


def test_exact_id_number_finds_a_person(world: World) -> None:
    person = PersonFactory(name="王五", community=world.c1)
    PersonFactory(name="赵六", community=world.c1)
    assert found(world, person.id_number().lower()) == {"王五"}


def test_part_of_an_id_number_finds_nobody(world: World) -> None:
    person = PersonFactory(name="王五", community=world.c1)
    assert found(world, person.id_number()[:17]) == set()


def test_merged_records_are_not_found(world: World) -> None:
    keep = PersonFactory(name="张三", community=world.c1)
    PersonFactory(name="张三", community=world.c1, is_active=False, merged_into=keep)
    assert person_search(cadre(world), "zs").count() == 1  # type: ignore[arg-type]


def test_social_org_manager_finds_only_own_staff(world: World) -> None:
    PersonFactory(name="张三", community=world.c1)
    PersonFactory(name="张山", community=world.c1, employer=world.o1)
    assert found(world, "zs", Role.SOCIAL_ORG_MANAGER) == {"张山"}


def test_renamed_person_is_found_by_the_new_name(world: World) -> None:
    person = PersonFactory(name="张三", community=world.c1)
    person.name = "李四"
    person.save()
    assert "李四" in found(world, "ls")


def test_versioned_edit_refreshes_the_search_keys(world: World) -> None:
    person = PersonFactory(name="张三", community=world.c1)
    person.name = "李四"
    save_versioned(person, expected_version=person.version, fields=["name"])
    assert Person.objects.get(pk=person.pk).search_text.split()[1] == "lisi"


def test_partial_save_of_the_name_refreshes_the_search_keys(world: World) -> None:
    person = PersonFactory(name="张三", community=world.c1)
    person.name = "李四"
    person.save(update_fields=["name"])
    assert " ls" in Person.objects.get(pk=person.pk).search_text


def test_organisation_found_by_initials(world: World) -> None:
    names = set(organization_search(cadre(world), "kxsq").values_list("name", flat=True))  # type: ignore[arg-type]
    assert "凯旋社区联合工会" in names


def test_organisation_search_stays_within_scope(world: World) -> None:
    names = set(organization_search(cadre(world), "ldsq").values_list("name", flat=True))  # type: ignore[arg-type]
    assert "丽都社区联合工会" not in names


def test_organisation_found_by_contact_phone(world: World) -> None:
    OrganizationFactory(
        name="企业甲",
        kind=OrgKind.ENTERPRISE,
        parent=world.c1.organization,
        credit_code=None,
        contact_phone="13912345678",
    )
    names = set(organization_search(cadre(world), "13912345678").values_list("name", flat=True))  # type: ignore[arg-type]
    assert names == {"企业甲"}


def test_community_found_by_initials(world: World) -> None:
    assert list(community_search(cadre(world), "kxsq")) == [world.c1]  # type: ignore[arg-type]


def test_organisation_versioned_rename_refreshes_the_keys(world: World) -> None:
    org = Organization.objects.get(pk=world.o1.pk)
    org.name = "晨光社工中心"
    save_versioned(org, expected_version=org.version, fields=["name"])
    assert " cgsg" in Organization.objects.get(pk=org.pk).search_text


def test_community_versioned_rename_refreshes_the_keys(world: World) -> None:
    community = Community.objects.get(pk=world.c1.pk)
    community.name = "朝阳社区"
    save_versioned(community, expected_version=community.version, fields=["name"])
    assert " cysq" in Community.objects.get(pk=community.pk).search_text


@pytest.mark.parametrize(
    ("q", "kind"),
    [
        ("", QueryKind.EMPTY),
        ("张三", QueryKind.CHINESE),
        ("zs", QueryKind.PINYIN),
        ("13812345678", QueryKind.PHONE),
        ("1381234", QueryKind.DIGITS),
        ("21010219750309123x", QueryKind.ID_NUMBER),
        ("91210102MA0XXXXX1Y", QueryKind.CREDIT_CODE),
        ("'", QueryKind.EMPTY),
    ],
)
def test_parse_query(q: str, kind: QueryKind) -> None:
    assert parse_query(q).kind == kind


# ---- the page and the API ------------------------------------------------------------------


def test_search_page_lists_people_and_organisations(world: World) -> None:
    PersonFactory(name="凯丽", community=world.c1)
    body = world.client(Role.COMMUNITY_CADRE).get("/org/search/", {"q": "k"}).content.decode()
    assert "凯丽" in body and "凯旋社区联合工会" in body


def test_search_page_stays_within_scope(world: World) -> None:
    PersonFactory(name="丽丽", community=world.c2)
    body = world.client(Role.COMMUNITY_CADRE).get("/org/search/", {"q": "ll"}).content.decode()
    assert "丽丽" not in body


def test_person_list_filter_uses_pinyin(world: World) -> None:
    PersonFactory(name="张三", community=world.c1)
    PersonFactory(name="李四", community=world.c1)
    response = world.client(Role.COMMUNITY_CADRE).get("/org/people/", {"q": "zs"})
    assert [p.name for p in response.context["page"]] == ["张三"]


def test_search_api_returns_people_organisations_and_communities(world: World) -> None:
    PersonFactory(name="凯丽", community=world.c1)
    data = world.client(Role.COMMUNITY_CADRE).get("/api/search", {"q": "k"}).json()
    assert (
        [p["name"] for p in data["people"]],
        "凯旋社区联合工会" in [o["name"] for o in data["organizations"]],
        [c["name"] for c in data["communities"]],
    ) == (["凯丽"], True, ["凯旋社区"])


def test_search_api_stays_within_scope(world: World) -> None:
    data = world.client(Role.COMMUNITY_CADRE).get("/api/search", {"q": "ld"}).json()
    assert data["communities"] == [] and data["organizations"] == []


def test_search_api_needs_a_login(client: object) -> None:
    assert client.get("/api/search", {"q": "zs"}).status_code == 401  # type: ignore[attr-defined]
