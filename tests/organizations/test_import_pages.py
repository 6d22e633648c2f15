"""The 数据导入 page, the import API and `sanlian import_xlsx`."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from openpyxl import load_workbook

from sanlian.core import services
from sanlian.core.models import AuditEntry, TaskRun
from sanlian.core.roles import Role
from sanlian.organizations import importers
from sanlian.organizations.models import Person

from ..conftest import World
from .factories_imports import (
    PEOPLE_HEADERS,
    bad_check_digit,
    data_dir,  # noqa: F401 - a fixture
    person_row,
    read_rows,
    resident_id,
    run_file,
    write_xlsx,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_dir")]

HOME = "/org/imports/"


def _three_good_two_bad(tmp_path: Path) -> Path:
    rows = [person_row(n) for n in (1, 2, 3)]
    rows.append(person_row(4, 社区="丽都社区"))
    rows.append(person_row(5, 身份证号=bad_check_digit(resident_id(5))))
    return write_xlsx(tmp_path / "居民.xlsx", rows, PEOPLE_HEADERS)


def _upload(client: Client, path: Path, kind: str = "people", **extra: Any) -> Any:
    with open(path, "rb") as fh:
        return client.post(HOME, {"kind": kind, "file": fh}, **extra)


# ---- the page ------------------------------------------------------------------------------


def test_a_cadre_sees_the_four_kinds(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(HOME)
    kinds = [k for k, _label in response.context["form"].fields["kind"].choices]
    assert kinds == ["people", "organizations", "social_workers", "volunteers"]


def test_a_social_organisation_imports_only_social_workers(world: World) -> None:
    response = world.client(Role.SOCIAL_ORG_MANAGER).get(HOME)
    assert [s.kind for s, _required in response.context["specs"]] == ["social_workers"]


def test_a_volunteer_may_not_import(world: World) -> None:
    assert world.client(Role.VOLUNTEER).get(HOME).status_code == 403


def test_the_template_download_opens_with_the_headers(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get("/org/imports/template/people.xlsx")
    rows = read_rows(response.content)
    assert rows[0][:5] == ("姓名", "性别", "身份证号", "手机号", "社区")
    assert "attachment" in response["Content-Disposition"]


def test_a_template_of_a_kind_not_allowed_is_refused(world: World) -> None:
    response = world.client(Role.SOCIAL_ORG_MANAGER).get("/org/imports/template/people.xlsx")
    assert response.status_code == 403


def test_an_upload_redirects_to_its_run(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(world.client(Role.COMMUNITY_CADRE), _three_good_two_bad(tmp_path))
    run = TaskRun.objects.get(name=importers.IMPORT_TASK)
    assert response["Location"] == f"/org/imports/{run.pk}/"


def test_the_run_page_shows_the_counts_in_words(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    client = world.client(Role.COMMUNITY_CADRE)
    with django_capture_on_commit_callbacks(execute=True):
        redirect = _upload(client, _three_good_two_bad(tmp_path))
    response = client.get(redirect["Location"])
    assert "导入完成：新增 3 条，更新 0 条，未导入 2 条。" in response.content.decode()


def test_the_uploaded_file_is_kept_under_the_run_id(
    world: World, tmp_path: Path, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _upload(world.client(Role.COMMUNITY_CADRE), _three_good_two_bad(tmp_path))
    run = TaskRun.objects.get(name=importers.IMPORT_TASK)
    assert (Path(settings.DATA_DIR) / "imports" / f"{run.pk}.xlsx").exists()


def test_a_file_that_is_not_excel_is_refused_on_the_form(world: World, tmp_path: Path) -> None:
    path = tmp_path / "名单.xlsx"
    path.write_bytes(os.urandom(2048))
    response = _upload(world.client(Role.COMMUNITY_CADRE), path)
    assert "文件不是Excel表格" in response.content.decode()
    assert not TaskRun.objects.filter(name=importers.IMPORT_TASK).exists()


def test_a_file_above_the_cap_is_refused_on_the_form(
    world: World, tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_MAX_BYTES = 1024
    response = _upload(world.client(Role.COMMUNITY_CADRE), _three_good_two_bad(tmp_path))
    assert "超过上限" in response.content.decode()


def test_a_missing_column_is_shown_before_anything_is_imported(
    world: World, tmp_path: Path
) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [["张三", "凯旋社区"]], ("姓名", "社区"))
    run = run_file(path, world.users[Role.COMMUNITY_CADRE])
    page = world.client(Role.COMMUNITY_CADRE).get(f"/org/imports/{run.pk}/")
    assert "文件未导入：缺少必填列：身份证号" in page.content.decode()


def test_the_htmx_poll_gets_the_status_only(world: World, tmp_path: Path) -> None:
    run = importers.import_start(
        by=world.users[Role.COMMUNITY_CADRE],
        kind="people",
        source=_three_good_two_bad(tmp_path),
        filename="x.xlsx",
        file_format="xlsx",
        dispatch=False,
    )
    response = world.client(Role.COMMUNITY_CADRE).get(
        f"/org/imports/{run.pk}/", HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="import-status"')
    assert 'hx-trigger="load delay:1s"' in html


def test_the_error_report_downloads_and_is_audited(world: World, tmp_path: Path) -> None:
    run = run_file(_three_good_two_bad(tmp_path), world.users[Role.COMMUNITY_CADRE])
    response = world.client(Role.COMMUNITY_CADRE).get(f"/org/imports/{run.pk}/errors.xlsx")
    rows = read_rows(b"".join(response.streaming_content))
    assert [r[:2] for r in rows[1:]] == [(5, "社区"), (6, "身份证号")]
    assert AuditEntry.objects.filter(action="export", object_id=str(run.pk)).exists()


def test_someone_elses_run_is_not_found(world: World, tmp_path: Path) -> None:
    run = run_file(_three_good_two_bad(tmp_path), world.users[Role.COMMUNITY_CADRE])
    client = world.client(Role.AREA_STAFF)
    assert client.get(f"/org/imports/{run.pk}/").status_code == 404
    assert client.get(f"/org/imports/{run.pk}/errors.xlsx").status_code == 404


# ---- the API -------------------------------------------------------------------------------


def _bearer(world: World, role: str) -> dict[str, str]:
    _token, raw = services.api_token_create(user=world.users[role], name="t")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_the_api_starts_an_import_and_reports_it(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    auth = _bearer(world, Role.COMMUNITY_CADRE)
    with (
        django_capture_on_commit_callbacks(execute=True),
        open(_three_good_two_bad(tmp_path), "rb") as fh,
    ):
        started = Client().post("/api/imports", {"kind": "people", "file": fh}, **auth)
    status = Client().get(started.json()["status_url"], **auth).json()
    assert started.status_code == 201
    assert (status["status"], status["imported"], status["updated"], status["rejected"]) == (
        "done",
        3,
        0,
        2,
    )


def test_the_api_serves_the_error_report(world: World, tmp_path: Path) -> None:
    run = run_file(_three_good_two_bad(tmp_path), world.users[Role.COMMUNITY_CADRE])
    auth = _bearer(world, Role.COMMUNITY_CADRE)
    response = Client().get(f"/api/imports/{run.pk}/errors", **auth)
    rows = read_rows(b"".join(response.streaming_content))
    assert rows[0][:4] == ("行号", "列", "原值", "原因")


def test_the_api_refuses_a_file_that_is_not_excel(world: World) -> None:
    auth = _bearer(world, Role.COMMUNITY_CADRE)
    upload = io.BytesIO(b"%PDF-1.4 not a sheet")
    upload.name = "a.xlsx"
    response = Client().post("/api/imports", {"kind": "people", "file": upload}, **auth)
    assert response.status_code == 400
    assert "这是PDF文件" in response.json()["detail"]["file"][0]


def test_the_api_hides_runs_of_others(world: World, tmp_path: Path) -> None:
    run = run_file(_three_good_two_bad(tmp_path), world.users[Role.COMMUNITY_CADRE])
    response = Client().get(f"/api/imports/{run.pk}", **_bearer(world, Role.AREA_STAFF))
    assert response.status_code == 404


# ---- the command ---------------------------------------------------------------------------


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("import_xlsx", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_the_counts(world: World, tmp_path: Path) -> None:
    output = _command(
        str(_three_good_two_bad(tmp_path)), "--kind", "people", "--user", "community_cadre"
    )
    assert "imported=3 updated=0 rejected=2" in output.splitlines()


def test_the_command_names_the_error_report(world: World, tmp_path: Path) -> None:
    output = _command(
        str(_three_good_two_bad(tmp_path)), "--kind", "people", "--user", "community_cadre"
    )
    path = next(line for line in output.splitlines() if line.startswith("error_report="))
    assert Path(path.removeprefix("error_report=")).exists()


def test_the_command_without_user_imports_city_wide(world: World, tmp_path: Path) -> None:
    output = _command(str(_three_good_two_bad(tmp_path)), "--kind", "people")
    assert "imported=4 updated=0 rejected=1" in output.splitlines()
    assert Person.objects.get(name="导入4").community == world.c2


def test_the_command_reports_a_file_error_in_chinese(world: World, tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    path.write_text("not a spreadsheet")
    with pytest.raises(CommandError, match="文件不是Excel表格"):
        _command(str(path), "--kind", "people")


def test_the_command_resumes_an_interrupted_run(world: World, tmp_path: Path) -> None:
    run = importers.import_start(
        by=None,
        kind="people",
        source=_three_good_two_bad(tmp_path),
        filename="x.xlsx",
        file_format="xlsx",
        dispatch=False,
    )
    output = _command("--resume", str(run.pk))
    assert "imported=4 updated=0 rejected=1" in output.splitlines()


def test_the_template_round_trips_through_the_command(world: World, tmp_path: Path) -> None:
    template = world.client(Role.COMMUNITY_CADRE).get("/org/imports/template/people.xlsx")
    wb = load_workbook(io.BytesIO(template.content))
    ws = wb.worksheets[0]
    ws.append(["模板人", None, resident_id(30), None, "凯旋社区"])
    path = tmp_path / "filled.xlsx"
    wb.save(path)
    output = _command(str(path), "--kind", "people", "--user", "community_cadre")
    assert "imported=1 updated=0 rejected=0" in output.splitlines()
