"""Registering and editing residents: ID checks, duplicates on entry, versioned edits, tags."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sanlian.core.roles import Role
from sanlian.core.validators import generate_resident_id
from sanlian.organizations.models import Person, PersonTag

from ..conftest import World
from ..factories import MembershipFactory, PersonFactory
from .factories_people import PersonTagFactory

pytestmark = pytest.mark.django_db

ID_1975 = generate_resident_id("210102", dt.date(1975, 3, 9), 123)  # odd sequence: male


def form_data(world: World, **extra: Any) -> dict[str, Any]:
    data = {"name": "王小明", "community": world.c1.pk, "id_number": ID_1975}
    data.update(extra)
    return data


def create(world: World, role: str = Role.COMMUNITY_CADRE, **extra: Any) -> Any:
    return world.client(role).post("/org/people/new/", form_data(world, **extra))


def test_registration_takes_sex_and_birth_date_from_the_id_number(world: World) -> None:
    create(world)
    person = Person.objects.get(name="王小明")
    assert (person.sex, person.birth_date) == ("M", dt.date(1975, 3, 9))


def test_registration_stores_the_id_number_encrypted_and_masked(world: World) -> None:
    create(world)
    person = Person.objects.get(name="王小明")
    assert (person.id_number(), person.id_number_masked, ID_1975 in person.id_number_encrypted) == (
        ID_1975,
        ID_1975[:4] + "*" * 10 + ID_1975[-4:],
        False,
    )


def test_sex_contradicting_the_id_number_is_refused(world: World) -> None:
    response = create(world, sex="F")
    assert "性别与身份证号不符" in response.context["form"].errors["sex"][0]


def test_birth_date_contradicting_the_id_number_is_refused(world: World) -> None:
    response = create(world, birth_date="1976-03-09")
    assert "出生日期与身份证号不符" in response.context["form"].errors["birth_date"][0]


def test_invalid_check_digit_is_explained(world: World) -> None:
    bad = ID_1975[:17] + ("0" if ID_1975[17] != "0" else "1")
    response = create(world, id_number=bad)
    assert "校验位" in response.context["form"].errors["id_number"][0]


def test_without_id_number_sex_is_required(world: World) -> None:
    response = create(world, id_number="")
    assert "请选择性别" in response.context["form"].errors["sex"][0]


def test_community_outside_scope_is_not_a_choice(world: World) -> None:
    response = create(world, community=world.c2.pk)
    assert "community" in response.context["form"].errors


def test_party_secretary_cannot_register_residents(world: World) -> None:
    assert create(world, Role.PARTY_SECRETARY).status_code == 403


def test_same_id_number_is_refused_with_a_link_to_the_record(world: World) -> None:
    existing = PersonFactory(name="王晓明", community=world.c1, id_number=ID_1975)
    response = create(world)
    assert existing.get_absolute_url() in response.content.decode()


def test_same_id_number_writes_nothing(world: World) -> None:
    PersonFactory(name="王晓明", community=world.c1, id_number=ID_1975)
    create(world)
    assert not Person.objects.filter(name="王小明").exists()


def test_same_id_number_outside_scope_is_refused_without_naming_anyone(world: World) -> None:
    PersonFactory(name="王晓明", community=world.c2, id_number=ID_1975)
    body = create(world).content.decode()
    assert "其他辖区" in body and "王晓明" not in body


def test_same_name_and_phone_needs_confirmation(world: World) -> None:
    PersonFactory(name="王小明", phone="13812345678", community=world.c1)
    response = create(world, id_number="", sex="M", phone="13812345678")
    assert "确认不是同一人" in response.context["form"].errors["confirm_not_duplicate"][0]


def test_same_name_and_phone_confirmed_is_registered(world: World) -> None:
    PersonFactory(name="王小明", phone="13812345678", community=world.c1)
    create(world, id_number="", sex="M", phone="13812345678", confirm_not_duplicate="on")
    assert Person.objects.filter(name="王小明").count() == 2


def test_registration_with_tags(world: World) -> None:
    create(world, tags=["disabled", "subsistence"])
    person = Person.objects.get(name="王小明")
    assert set(person.tags.values_list("tag", flat=True)) == {"disabled", "subsistence"}


def test_new_employment_kind_sets_the_flag(world: World) -> None:
    create(world, new_employment_kind="rider")
    assert Person.objects.get(name="王小明").is_new_employment


# ---- editing -------------------------------------------------------------------------------


def edit(world: World, person: Person, **changes: Any) -> Any:
    data = {
        "name": person.name,
        "sex": person.sex,
        "birth_date": person.birth_date.isoformat() if person.birth_date else "",
        "phone": person.phone,
        "community": person.community_id,
        "address": person.address,
        "workplace": person.workplace,
        "new_employment_kind": person.new_employment_kind,
        "expected_version": person.version,
    }
    data.update(changes)
    return world.client(Role.COMMUNITY_CADRE).post(f"/org/people/{person.pk}/edit/", data)


def test_edit_form_never_shows_the_full_id_number(world: World) -> None:
    person = PersonFactory(community=world.c1)
    body = world.client(Role.COMMUNITY_CADRE).get(f"/org/people/{person.pk}/edit/").content
    assert person.id_number() not in body.decode()


def test_edit_saves_and_bumps_the_version(world: World) -> None:
    person = PersonFactory(community=world.c1)
    edit(world, person, address="新地址1号")
    saved = Person.objects.get(pk=person.pk)
    assert (saved.address, saved.version) == ("新地址1号", person.version + 1)


def test_edit_keeps_the_id_number_when_left_empty(world: World) -> None:
    person = PersonFactory(community=world.c1)
    edit(world, person, address="新地址1号")
    assert Person.objects.get(pk=person.pk).id_number() == person.id_number()


def test_edit_changes_the_id_number_when_given(world: World) -> None:
    person = PersonFactory(community=world.c1, birth_date=dt.date(1975, 3, 9))
    edit(world, person, id_number=ID_1975)
    assert Person.objects.get(pk=person.pk).id_number() == ID_1975


def test_edit_to_another_persons_id_number_is_refused(world: World) -> None:
    PersonFactory(community=world.c1, id_number=ID_1975)
    person = PersonFactory(community=world.c1, birth_date=dt.date(1975, 3, 9))
    response = edit(world, person, id_number=ID_1975)
    assert response.context["form"].errors["id_number"]


def test_edit_birth_date_is_checked_against_the_stored_id_number(world: World) -> None:
    person = PersonFactory(community=world.c1)
    response = edit(world, person, birth_date="1990-01-01")
    assert "出生日期与身份证号不符" in response.context["form"].errors["birth_date"][0]


def test_an_old_record_contradicting_its_id_number_can_still_be_edited(world: World) -> None:
    person = PersonFactory(community=world.c1, sex="F", id_number=ID_1975)  # the number: male
    edit(world, person, address="新地址2号")
    assert Person.objects.get(pk=person.pk).address == "新地址2号"


def test_stale_edit_is_not_saved(world: World) -> None:
    person = PersonFactory(community=world.c1)
    edit(world, person, address="先保存的地址")
    edit(world, person, address="后保存的地址")  # still carries the old version
    assert Person.objects.get(pk=person.pk).address == "先保存的地址"


def test_rename_through_the_edit_page_is_found_by_new_initials(world: World) -> None:
    person = PersonFactory(community=world.c1, name="张三")
    edit(world, person, name="李四")
    response = world.client(Role.COMMUNITY_CADRE).get("/org/people/", {"q": "ls"})
    assert [p.pk for p in response.context["page"]] == [person.pk]


def test_edit_outside_scope_is_404(world: World) -> None:
    person = PersonFactory(community=world.c2)
    assert edit(world, person, address="x").status_code == 404


# ---- tags ----------------------------------------------------------------------------------


def test_cadre_sets_tags_on_the_person_page(world: World) -> None:
    person = PersonFactory(community=world.c1)
    world.client(Role.COMMUNITY_CADRE).post(
        f"/org/people/{person.pk}/tags/", {"tags": ["elderly_alone"]}
    )
    assert list(person.tags.values_list("tag", flat=True)) == ["elderly_alone"]


def test_unticked_tag_is_removed(world: World) -> None:
    person = PersonFactory(community=world.c1)
    PersonTagFactory(person=person, tag="disabled")
    world.client(Role.COMMUNITY_CADRE).post(f"/org/people/{person.pk}/tags/", {"tags": []})
    assert not PersonTag.objects.filter(person=person).exists()


def test_person_page_shows_tags_to_area_staff(world: World) -> None:
    person = PersonFactory(community=world.c1)
    PersonTagFactory(person=person, tag="elderly_alone")
    body = world.client(Role.AREA_STAFF).get(person.get_absolute_url()).content.decode()
    assert "独居老人" in body


def test_person_page_hides_tags_from_the_social_organisation(world: World) -> None:
    person = PersonFactory(community=world.c1, employer=world.o1)
    PersonTagFactory(person=person, tag="elderly_alone")
    body = world.client(Role.SOCIAL_ORG_MANAGER).get(person.get_absolute_url()).content.decode()
    assert "独居老人" not in body and "困难情况" not in body


def test_list_filters_by_tag(world: World) -> None:
    tagged = PersonFactory(community=world.c1)
    PersonFactory(community=world.c1)
    PersonTagFactory(person=tagged, tag="subsistence")
    response = world.client(Role.COMMUNITY_CADRE).get("/org/people/", {"tag": "subsistence"})
    assert [p.pk for p in response.context["page"]] == [tagged.pk]


def test_social_organisation_cannot_filter_by_tag(world: World) -> None:
    tagged = PersonFactory(community=world.c1, employer=world.o1)
    PersonFactory(community=world.c1, employer=world.o1)
    PersonTagFactory(person=tagged, tag="subsistence")
    response = world.client(Role.SOCIAL_ORG_MANAGER).get("/org/people/", {"tag": "subsistence"})
    assert len(response.context["page"]) == 3  # the filter is ignored: all its staff


# ---- list filters --------------------------------------------------------------------------


def test_list_filters_members(world: World) -> None:
    member = PersonFactory(community=world.c1)
    MembershipFactory(person=member)
    response = world.client(Role.COMMUNITY_CADRE).get("/org/people/", {"group": "member"})
    assert [p.pk for p in response.context["page"]] == [member.pk]


def test_list_filters_new_employment(world: World) -> None:
    rider = PersonFactory(community=world.c1, new_employment_kind="rider")
    response = world.client(Role.COMMUNITY_CADRE).get("/org/people/", {"group": "new_employment"})
    assert [p.pk for p in response.context["page"]] == [rider.pk]


def test_list_leaves_out_merged_records(world: World) -> None:
    keep = PersonFactory(community=world.c1)
    gone = PersonFactory(community=world.c1, is_active=False, merged_into=keep)
    response = world.client(Role.COMMUNITY_CADRE).get("/org/people/")
    assert gone.pk not in [p.pk for p in response.context["page"]]
