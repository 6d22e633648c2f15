"""Excel import of people and memberships: validation, scope, idempotent re-import, resume."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from sanlian.core import crypto
from sanlian.core.models import AuditEntry, TaskStatus
from sanlian.core.roles import Role
from sanlian.core.validators import mask_resident_id
from sanlian.organizations import importers
from sanlian.organizations.models import Membership, NewEmploymentKind, Person

from ..conftest import World
from ..factories import MembershipFactory, PersonFactory
from .factories_imports import (
    MEMBER_HEADERS,
    PEOPLE_HEADERS,
    bad_check_digit,
    counts,
    data_dir,  # noqa: F401 - a fixture
    person_row,
    report_lines,
    resident_id,
    run_file,
    write_xlsx,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir")]


def _cadre_import(world: World, path: Path) -> Any:
    return run_file(path, world.users[Role.COMMUNITY_CADRE])


def _person(n: int) -> Person:
    return Person.objects.get(id_number_hash=crypto.search_hash(resident_id(n)))


def _file(tmp_path: Path, rows: list[dict[str, Any]], headers: Any = PEOPLE_HEADERS) -> Path:
    return write_xlsx(tmp_path / "people.xlsx", rows, headers)


def test_valid_rows_create_people(world: World, tmp_path: Path) -> None:
    run = _cadre_import(world, _file(tmp_path, [person_row(1), person_row(2)]))
    assert counts(run) == (2, 0, 0)
    assert Person.objects.filter(name__startswith="导入").count() == 2


def test_the_id_number_is_stored_encrypted_hashed_and_masked(world: World, tmp_path: Path) -> None:
    _cadre_import(world, _file(tmp_path, [person_row(1)]))
    person = _person(1)
    assert person.id_number() == resident_id(1)
    assert person.id_number_masked == mask_resident_id(resident_id(1))
    assert resident_id(1) not in person.id_number_encrypted


def test_sex_and_birth_date_come_from_the_id_number(world: World, tmp_path: Path) -> None:
    _cadre_import(world, _file(tmp_path, [person_row(2)]))
    person = _person(2)
    assert (person.sex, person.birth_date) == ("F", dt.date(1990, 2, 3))


def test_the_pinyin_search_text_is_filled(world: World, tmp_path: Path) -> None:
    _cadre_import(world, _file(tmp_path, [person_row(1, 姓名="张三")]))
    assert " zhangsan" in _person(1).search_text


def test_the_same_file_again_updates_and_adds_no_one(world: World, tmp_path: Path) -> None:
    path = _file(tmp_path, [person_row(1), person_row(2)])
    _cadre_import(world, path)
    before = Person.objects.count()
    run = _cadre_import(world, path)
    assert (counts(run), Person.objects.count()) == ((0, 2, 0), before)


def test_a_changed_cell_updates_the_person_and_its_version(world: World, tmp_path: Path) -> None:
    _cadre_import(world, _file(tmp_path, [person_row(1)]))
    version = _person(1).version
    _cadre_import(world, _file(tmp_path, [person_row(1, 住址="沈河区新路8号")]))
    person = _person(1)
    assert (person.address, person.version) == ("沈河区新路8号", version + 1)


def test_an_empty_cell_keeps_what_is_on_record(world: World, tmp_path: Path) -> None:
    _cadre_import(world, _file(tmp_path, [person_row(1)]))
    _cadre_import(world, _file(tmp_path, [person_row(1, 手机号="", 住址=None)]))
    person = _person(1)
    assert (person.phone, person.address) == ("13900000001", "和平区测试路1号")


def test_a_community_outside_the_users_scope_is_rejected(world: World, tmp_path: Path) -> None:
    run = _cadre_import(world, _file(tmp_path, [person_row(1, 社区="丽都社区")]))
    assert counts(run) == (0, 0, 1)
    assert report_lines(run) == [
        (2, "社区", "丽都社区", "社区“丽都社区”不存在或不在您的管辖范围内")
    ]


def test_a_row_outside_scope_writes_nothing(world: World, tmp_path: Path) -> None:
    _cadre_import(world, _file(tmp_path, [person_row(1, 社区="丽都社区")]))
    assert not Person.objects.filter(id_number_hash=crypto.search_hash(resident_id(1))).exists()


def test_district_staff_may_import_into_any_community_of_the_district(
    world: World, tmp_path: Path
) -> None:
    run = run_file(_file(tmp_path, [person_row(1)]), world.users[Role.AREA_STAFF])
    assert (counts(run), _person(1).community) == ((1, 0, 0), world.c1)


def test_a_person_registered_outside_scope_is_not_touched(world: World, tmp_path: Path) -> None:
    far = PersonFactory(community=world.c2, id_number=resident_id(9), address="丽都路1号")
    run = _cadre_import(world, _file(tmp_path, [person_row(9)]))
    far.refresh_from_db()
    assert (counts(run), far.community, far.address) == ((0, 0, 1), world.c2, "丽都路1号")
    assert "管辖范围以外的社区" in report_lines(run)[0][3]


def test_a_record_without_id_number_gets_it_instead_of_a_twin(world: World, tmp_path: Path) -> None:
    earlier = PersonFactory(name="导入1", community=world.c1, phone="13900000001", id_number="")
    earlier.set_id_number("")
    earlier.save()
    run = _cadre_import(world, _file(tmp_path, [person_row(1)]))
    assert (counts(run), _person(1).pk) == ((0, 1, 0), earlier.pk)


def test_a_phone_with_country_code_and_spaces_is_normalised(world: World, tmp_path: Path) -> None:
    _cadre_import(world, _file(tmp_path, [person_row(1, 手机号="+86 139 1234 5678")]))
    assert _person(1).phone == "13912345678"


def test_a_phone_stored_as_a_number_is_read(world: World, tmp_path: Path) -> None:
    _cadre_import(world, _file(tmp_path, [person_row(1, 手机号=13912345678)]))
    assert _person(1).phone == "13912345678"


def test_a_bad_phone_is_rejected_with_a_reason(world: World, tmp_path: Path) -> None:
    run = _cadre_import(world, _file(tmp_path, [person_row(1, 手机号="02488881234")]))
    assert report_lines(run)[0][1:] == (
        "手机号",
        "02488881234",
        "手机号码 02488881234 无效：这是固定电话号码，应为11位中国大陆手机号",
    )


def test_a_bad_check_digit_is_rejected(world: World, tmp_path: Path) -> None:
    bad = bad_check_digit(resident_id(1))
    run = _cadre_import(world, _file(tmp_path, [person_row(1, 身份证号=bad)]))
    assert report_lines(run)[0][:3] == (2, "身份证号", bad)
    assert report_lines(run)[0][3].startswith("身份证号校验位应为")


def test_an_id_number_stored_as_a_number_is_rejected(world: World, tmp_path: Path) -> None:
    row = person_row(1, 身份证号=float(resident_id(1)))
    run = _cadre_import(world, _file(tmp_path, [row]))
    assert report_lines(run)[0][3] == (
        "身份证号被Excel存成了数字，末尾数字可能已丢失，请将该列设为文本格式"
    )


def test_full_width_digits_in_an_id_number_are_accepted(world: World, tmp_path: Path) -> None:
    wide = resident_id(1).translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    run = _cadre_import(world, _file(tmp_path, [person_row(1, 身份证号=wide)]))
    assert (counts(run), _person(1).name) == ((1, 0, 0), "导入1")


def test_a_sex_that_contradicts_the_id_number_is_rejected(world: World, tmp_path: Path) -> None:
    run = _cadre_import(world, _file(tmp_path, [person_row(1, 性别="女")]))
    assert report_lines(run) == [(2, "性别", "女", "性别与身份证号不符：身份证号显示为男")]


def test_the_second_row_with_the_same_id_number_is_reported(world: World, tmp_path: Path) -> None:
    run = _cadre_import(world, _file(tmp_path, [person_row(1), person_row(1, 姓名="又一个")]))
    assert counts(run) == (1, 0, 1)
    assert report_lines(run)[0][0::3] == (3, "与第 2 行重复（身份证号相同），本行未导入")


def test_the_new_employment_form_is_read_from_its_label(world: World, tmp_path: Path) -> None:
    headers = (*PEOPLE_HEADERS, "新就业形态")
    _cadre_import(world, _file(tmp_path, [person_row(1, 新就业形态="外卖骑手")], headers))
    person = _person(1)
    assert (person.new_employment_kind, person.is_new_employment) == (
        NewEmploymentKind.RIDER,
        True,
    )


# ---- memberships ---------------------------------------------------------------------------


def _member(n: int, card: str, **over: Any) -> dict[str, Any]:
    return person_row(n, 会员证号=card, 入会时间="2021-04-01", **over)


def test_a_member_joins_the_community_union_by_default(world: World, tmp_path: Path) -> None:
    _cadre_import(world, _file(tmp_path, [_member(1, "K0001")], MEMBER_HEADERS))
    membership = Membership.objects.get(card_number="K0001")
    assert (membership.person, membership.union, membership.joined_on, membership.status) == (
        _person(1),
        world.c1.organization,
        dt.date(2021, 4, 1),
        "active",
    )


def test_reimporting_a_member_keeps_one_membership(world: World, tmp_path: Path) -> None:
    path = _file(tmp_path, [_member(1, "K0001")], MEMBER_HEADERS)
    _cadre_import(world, path)
    _cadre_import(world, path)
    assert Membership.objects.filter(card_number="K0001").count() == 1


def test_a_card_number_held_by_someone_else_is_rejected(world: World, tmp_path: Path) -> None:
    MembershipFactory(person=PersonFactory(community=world.c1), card_number="K0001")
    run = _cadre_import(world, _file(tmp_path, [_member(1, "K0001")], MEMBER_HEADERS))
    assert report_lines(run) == [
        (2, "会员证号", "K0001", "会员证号 K0001 已登记在他人名下，请核对")
    ]
    assert not Person.objects.filter(id_number_hash=crypto.search_hash(resident_id(1))).exists()


def test_membership_details_without_a_card_number_are_rejected(
    world: World, tmp_path: Path
) -> None:
    row = person_row(1, 入会时间="2021-04-01")
    run = _cadre_import(world, _file(tmp_path, [row], MEMBER_HEADERS))
    assert report_lines(run)[0][1::2] == ("会员证号", "填写了入会信息，请同时填写会员证号")


def test_a_card_number_needs_a_joining_date(world: World, tmp_path: Path) -> None:
    run = _cadre_import(world, _file(tmp_path, [person_row(1, 会员证号="K1")], MEMBER_HEADERS))
    assert report_lines(run)[0][1::2] == ("入会时间", "填写会员证号时请填写入会时间")


def test_a_union_outside_scope_is_rejected(world: World, tmp_path: Path) -> None:
    row = _member(1, "K0001", 所属工会="丽都社区联合工会")
    run = _cadre_import(world, _file(tmp_path, [row], MEMBER_HEADERS))
    assert report_lines(run)[0][1::2] == (
        "所属工会",
        "工会“丽都社区联合工会”不存在或不在您的管辖范围内",
    )
    assert not Membership.objects.filter(card_number="K0001").exists()


def test_the_second_row_with_the_same_card_number_is_reported(world: World, tmp_path: Path) -> None:
    rows = [_member(1, "K0001"), _member(2, "K0001")]
    run = _cadre_import(world, _file(tmp_path, rows, MEMBER_HEADERS))
    assert report_lines(run)[0][:2] == (3, "会员证号")


# ---- audit ---------------------------------------------------------------------------------


def test_each_batch_writes_an_audit_entry_naming_the_run(world: World, tmp_path: Path) -> None:
    run = _cadre_import(world, _file(tmp_path, [person_row(1), person_row(2)]))
    entry = AuditEntry.objects.get(
        object_type="organizations.Person", action="create", changes__import_run=str(run.pk)
    )
    assert (entry.changes["import_run"], len(entry.changes["ids"]), entry.actor_name) == (
        str(run.pk),
        2,
        Role.COMMUNITY_CADRE,
    )


def test_an_update_is_audited_with_what_changed(world: World, tmp_path: Path) -> None:
    _cadre_import(world, _file(tmp_path, [person_row(1)]))
    run = _cadre_import(world, _file(tmp_path, [person_row(1, 住址="新地址")]))
    entry = AuditEntry.objects.get(
        object_type="organizations.Person", action="update", changes__import_run=str(run.pk)
    )
    assert entry.changes["changes"][str(_person(1).pk)]["address"] == ["和平区测试路1号", "新地址"]


# ---- a worker that dies part-way -----------------------------------------------------------


def test_a_crash_in_batch_three_resumes_without_duplicates(
    world: World,
    tmp_path: Path,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.IMPORT_BATCH_SIZE = 2
    rows = [person_row(n) for n in range(1, 8)] + [person_row(8, 社区="丽都社区")]
    path = _file(tmp_path, rows)
    calls: list[int] = []

    def dies_in_batch_three(batch: Any, ctx: Any) -> Any:
        calls.append(len(batch))
        out = importers.people_upsert(batch, ctx)  # half the batch is written...
        if len(calls) == 3:
            raise RuntimeError("worker killed")  # ...and rolled back with it
        return out

    spec = dataclasses.replace(importers.PEOPLE, upsert=dies_in_batch_three)
    monkeypatch.setitem(importers.SPECS, "people", spec)
    before = Person.objects.count()
    with pytest.raises(RuntimeError):
        run_file(path, world.users[Role.COMMUNITY_CADRE])
    run = importers.TaskRun.objects.get(name=importers.IMPORT_TASK)
    assert (run.status, run.result["checkpoint"]["row"], Person.objects.count()) == (
        TaskStatus.FAILED,
        5,
        before + 4,
    )

    monkeypatch.setitem(importers.SPECS, "people", importers.PEOPLE)
    with django_capture_on_commit_callbacks(execute=True):
        importers.import_retry(run=run)
    run.refresh_from_db()
    assert (run.status, counts(run), Person.objects.count()) == (
        TaskStatus.DONE,
        (7, 0, 1),
        before + 7,
    )
    assert run.result["resumed_from_row"] == 5
    assert report_lines(run)[0][:2] == (9, "社区")
