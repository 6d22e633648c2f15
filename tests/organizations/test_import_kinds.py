"""Excel import of organisations, social workers and volunteers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sanlian.core.roles import Role
from sanlian.core.validators import make_credit_code
from sanlian.organizations.forms.imports import availability_text, parse_availability
from sanlian.organizations.models import Organization, OrgKind, SocialWorker, Volunteer

from ..conftest import World
from ..factories import OrganizationFactory, PersonFactory, SocialWorkerFactory, VolunteerFactory
from .factories_imports import (
    counts,
    data_dir,  # noqa: F401 - a fixture
    report_lines,
    resident_id,
    run_file,
    write_xlsx,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir")]

ORG_HEADERS = ("名称", "类型", "上级组织", "统一社会信用代码", "联系人", "联系电话")
WORKER_HEADERS = ("身份证号", "姓名", "所在机构", "职业资格", "证书编号", "督导")
VOLUNTEER_HEADERS = ("身份证号", "姓名", "志愿服务队", "技能", "可服务时间")
CODE = make_credit_code("210102", 777)


def _cadre(world: World, path: Path, kind: str) -> Any:
    return run_file(path, world.users[Role.COMMUNITY_CADRE], kind)


# ---- organisations -------------------------------------------------------------------------


def _org_row(**over: Any) -> dict[str, Any]:
    row = {
        "名称": "彩虹社工服务中心",
        "类型": "社会组织",
        "上级组织": "凯旋社区联合工会",
        "统一社会信用代码": CODE,
        "联系人": "王五",
        "联系电话": "13812345678",
    }
    row.update(over)
    return row


def _orgs(tmp_path: Path, *rows: dict[str, Any]) -> Path:
    return write_xlsx(tmp_path / "orgs.xlsx", rows, ORG_HEADERS)


def test_an_organisation_is_created_under_its_parent(world: World, tmp_path: Path) -> None:
    run = _cadre(world, _orgs(tmp_path, _org_row()), "organizations")
    org = Organization.objects.get(credit_code=CODE)
    assert counts(run) == (1, 0, 0)
    assert (org.kind, org.parent, org.path) == (
        OrgKind.SOCIAL_ORG,
        world.c1.organization,
        f"{world.c1.organization.path}{org.pk}/",
    )


def test_an_imported_organisation_is_in_the_importers_scope(world: World, tmp_path: Path) -> None:
    _cadre(world, _orgs(tmp_path, _org_row()), "organizations")
    cadre = world.users[Role.COMMUNITY_CADRE]
    assert Organization.objects.visible_to(cadre).filter(credit_code=CODE).exists()


def test_an_organisation_is_updated_by_its_credit_code(world: World, tmp_path: Path) -> None:
    _cadre(world, _orgs(tmp_path, _org_row()), "organizations")
    run = _cadre(world, _orgs(tmp_path, _org_row(名称="彩虹社工", 联系人="赵六")), "organizations")
    org = Organization.objects.get(credit_code=CODE)
    assert (counts(run), org.name, org.contact_name) == ((0, 1, 0), "彩虹社工", "赵六")


def test_an_organisation_without_code_is_keyed_by_name_and_parent(
    world: World, tmp_path: Path
) -> None:
    row = _org_row(名称="凯旋居委会", 类型="居民委员会", 统一社会信用代码="")
    _cadre(world, _orgs(tmp_path, row), "organizations")
    run = _cadre(world, _orgs(tmp_path, row), "organizations")
    assert counts(run) == (0, 1, 0)
    assert Organization.objects.filter(name="凯旋居委会").count() == 1


def test_a_social_organisation_needs_a_credit_code(world: World, tmp_path: Path) -> None:
    run = _cadre(world, _orgs(tmp_path, _org_row(统一社会信用代码="")), "organizations")
    assert report_lines(run)[0][1::2] == ("统一社会信用代码", "社会组织必须填写统一社会信用代码")


def test_a_bad_credit_code_is_rejected(world: World, tmp_path: Path) -> None:
    bad = CODE[:-1] + ("0" if CODE[-1] != "0" else "1")
    run = _cadre(world, _orgs(tmp_path, _org_row(统一社会信用代码=bad)), "organizations")
    assert report_lines(run)[0][3].startswith("统一社会信用代码第18位校验码应为")


def test_a_parent_outside_scope_is_rejected(world: World, tmp_path: Path) -> None:
    run = _cadre(world, _orgs(tmp_path, _org_row(上级组织="丽都社区联合工会")), "organizations")
    assert report_lines(run) == [
        (2, "上级组织", "丽都社区联合工会", "组织“丽都社区联合工会”不存在或不在您的管辖范围内")
    ]
    assert not Organization.objects.filter(credit_code=CODE).exists()


def test_a_code_registered_outside_scope_is_not_touched(world: World, tmp_path: Path) -> None:
    assert world.o2.credit_code
    row = _org_row(统一社会信用代码=world.o2.credit_code, 名称="改名")
    run = _cadre(world, _orgs(tmp_path, row), "organizations")
    world.o2.refresh_from_db()
    assert (counts(run), world.o2.name) == ((0, 0, 1), "同心社工中心")


def test_the_level_rule_of_the_tree_applies(world: World, tmp_path: Path) -> None:
    row = _org_row(类型="社区党组织", 上级组织="阳光社工中心", 统一社会信用代码="")
    run = _cadre(world, _orgs(tmp_path, row), "organizations")
    assert report_lines(run)[0][1] == "上级组织"


# ---- social workers ------------------------------------------------------------------------


def _workers(tmp_path: Path, *rows: dict[str, Any]) -> Path:
    return write_xlsx(tmp_path / "workers.xlsx", rows, WORKER_HEADERS)


def _worker_row(number: str, **over: Any) -> dict[str, Any]:
    row = {
        "身份证号": number,
        "所在机构": "阳光社工中心",
        "职业资格": "社会工作师",
        "证书编号": "sw-2021-001",
        "督导": "是",
    }
    row.update(over)
    return row


def test_a_registered_person_becomes_a_social_worker(world: World, tmp_path: Path) -> None:
    person = PersonFactory(community=world.c1, id_number=resident_id(11))
    run = _cadre(world, _workers(tmp_path, _worker_row(resident_id(11))), "social_workers")
    worker = SocialWorker.objects.get(person=person)
    person.refresh_from_db()
    assert counts(run) == (1, 0, 0)
    assert (worker.organization, worker.qualification, worker.certificate_number) == (
        world.o1,
        "social_worker",
        "SW-2021-001",
    )
    assert (worker.is_supervisor, person.employer) == (True, world.o1)


def test_a_social_worker_is_updated_on_reimport(world: World, tmp_path: Path) -> None:
    PersonFactory(community=world.c1, id_number=resident_id(11))
    _cadre(world, _workers(tmp_path, _worker_row(resident_id(11))), "social_workers")
    run = _cadre(
        world, _workers(tmp_path, _worker_row(resident_id(11), 督导="否")), "social_workers"
    )
    assert counts(run) == (0, 1, 0)
    assert SocialWorker.objects.get(certificate_number="SW-2021-001").is_supervisor is False


def test_an_unregistered_id_number_is_rejected(world: World, tmp_path: Path) -> None:
    run = _cadre(world, _workers(tmp_path, _worker_row(resident_id(12))), "social_workers")
    assert report_lines(run)[0][1] == "身份证号"
    assert "请先通过“居民与会员”导入登记此人" in report_lines(run)[0][3]


def test_a_certificate_of_another_worker_is_rejected(world: World, tmp_path: Path) -> None:
    other = PersonFactory(community=world.c1)
    SocialWorkerFactory(person=other, organization=world.o1, certificate_number="SW-2021-001")
    PersonFactory(community=world.c1, id_number=resident_id(11))
    run = _cadre(world, _workers(tmp_path, _worker_row(resident_id(11))), "social_workers")
    assert report_lines(run)[0][1::2] == ("证书编号", "该证书编号已登记在其他社工名下，请核对")


def test_a_name_that_differs_from_the_record_is_rejected(world: World, tmp_path: Path) -> None:
    PersonFactory(community=world.c1, id_number=resident_id(11), name="李雷")
    row = _worker_row(resident_id(11), 姓名="韩梅梅")
    run = _cadre(world, _workers(tmp_path, row), "social_workers")
    assert report_lines(run)[0][1::2] == ("姓名", "姓名与登记信息不符（该身份证号登记为 李雷）")


def test_a_manager_imports_only_into_their_own_organisation(world: World, tmp_path: Path) -> None:
    PersonFactory(community=world.c1, id_number=resident_id(11), employer=world.o1)
    row = _worker_row(resident_id(11), 所在机构="同心社工中心")
    run = run_file(_workers(tmp_path, row), world.users[Role.SOCIAL_ORG_MANAGER], "social_workers")
    assert report_lines(run)[0][1] == "所在机构"


# ---- volunteers ----------------------------------------------------------------------------


def _volunteers(tmp_path: Path, *rows: dict[str, Any]) -> Path:
    return write_xlsx(tmp_path / "volunteers.xlsx", rows, VOLUNTEER_HEADERS)


def test_a_volunteer_is_registered_with_skills_and_time(world: World, tmp_path: Path) -> None:
    person = PersonFactory(community=world.c1, id_number=resident_id(21))
    row = {
        "身份证号": resident_id(21),
        "志愿服务队": "凯旋志愿队",
        "技能": "助老、理发、修自行车",
        "可服务时间": "周六上午、周日下午、工作日晚上",
    }
    run = _cadre(world, _volunteers(tmp_path, row), "volunteers")
    volunteer = Volunteer.objects.get(person=person)
    assert counts(run) == (1, 0, 0)
    assert (volunteer.team, volunteer.skills, volunteer.skills_other) == (
        world.t1,
        "助老、理发",
        "修自行车",
    )
    assert volunteer.availability == [
        "5:am",
        "6:pm",
        "0:evening",
        "1:evening",
        "2:evening",
        "3:evening",
        "4:evening",
    ]


def test_a_volunteer_moves_to_another_visible_team(world: World, tmp_path: Path) -> None:
    person = PersonFactory(community=world.c1, id_number=resident_id(21))
    other_team = OrganizationFactory(
        name="凯旋第二志愿队", kind=OrgKind.VOLUNTEER_TEAM, parent=world.c1.organization
    )
    VolunteerFactory(person=person, team=world.t1)
    row = {"身份证号": resident_id(21), "志愿服务队": "凯旋第二志愿队"}
    run = _cadre(world, _volunteers(tmp_path, row), "volunteers")
    assert (counts(run), Volunteer.objects.get(person=person).team) == ((0, 1, 0), other_team)


def test_an_unreadable_availability_is_rejected(world: World, tmp_path: Path) -> None:
    PersonFactory(community=world.c1, id_number=resident_id(21))
    row = {"身份证号": resident_id(21), "志愿服务队": "凯旋志愿队", "可服务时间": "有空就来"}
    run = _cadre(world, _volunteers(tmp_path, row), "volunteers")
    assert report_lines(run)[0][1::2] == (
        "可服务时间",
        "无法识别的可服务时间“有空就来”，示例：周六上午、周日下午、工作日晚上",
    )


def test_a_team_outside_scope_is_rejected(world: World, tmp_path: Path) -> None:
    PersonFactory(community=world.c1, id_number=resident_id(21))
    row = {"身份证号": resident_id(21), "志愿服务队": "丽都志愿队"}
    run = _cadre(world, _volunteers(tmp_path, row), "volunteers")
    assert report_lines(run)[0][1] == "志愿服务队"


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("周末全天", ["5:am", "5:pm", "5:evening", "6:am", "6:pm", "6:evening"]),
        ("星期三晚上，周日", ["2:evening", "6:am", "6:pm", "6:evening"]),
        ("每天晚上", [f"{d}:evening" for d in range(7)]),
    ],
)
def test_availability_text_forms(text: str, slots: list[str]) -> None:
    assert parse_availability(text) == slots


def test_availability_reads_back_as_text() -> None:
    assert availability_text(["5:am", "6:pm"]) == "周六上午、周日下午"
