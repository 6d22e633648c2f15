"""数据导入: a community cadre fills the template, uploads it, watches the progress bar and
downloads the report of the rows that were not imported."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from sanlian.core.validators import generate_resident_id

from .conftest import screenshot
from .support import login, sidebar


def _ids(n: int) -> list[str]:
    return [generate_resident_id("110101", dt.date(1991, 7, 8), i) for i in range(1, n + 1)]


def _bad_check_digit(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


@pytest.fixture
def held_tasks(settings: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Queued runs wait here instead of starting, so the test decides when work happens."""
    from sanlian.core import tasks

    settings.TASKS_INPROCESS_SYNC = False
    settings.TASKS_BACKEND = "inprocess"
    queued: list[str] = []

    class Held:
        def submit(self, fn: Any, run_id: str) -> None:
            queued.append(run_id)

    monkeypatch.setattr(tasks, "_get_executor", lambda: Held())
    return queued


def test_cadre_imports_a_filled_template(
    demo: Any, page: Any, tmp_path: Path, held_tasks: list[str]
) -> None:
    from sanlian.core import tasks
    from sanlian.core.models import TaskRun, TaskStatus
    from sanlian.organizations.models import Person

    login(page, demo.url, "cadre")
    with page.expect_navigation():
        sidebar(page).get_by_role("link", name="数据导入").click()
    expect(page.locator("h1")).to_have_text("数据导入")
    screenshot(page, "test_import_home")

    # The template, filled in as a cadre would: three good rows, two that cannot be imported.
    with page.expect_download() as download:
        page.get_by_test_id("templates").get_by_role(
            "row", name=re.compile("居民与会员")
        ).get_by_role("link", name="下载模板").click()
    wb = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]][:5] == ["姓名", "性别", "身份证号", "手机号", "社区"]
    good, (far, broken) = _ids(3), _ids(5)[3:]
    for i, number in enumerate(good, start=1):
        ws.append([f"导入居民{i}", None, number, f"1390000000{i}", "凯旋社区"])
    ws.append(["范围外", None, far, None, "晨兴社区"])
    ws.append(["校验位错", None, _bad_check_digit(broken), None, "凯旋社区"])
    filled = tmp_path / "居民名单.xlsx"
    wb.save(filled)

    page.get_by_label("导入内容").select_option("people")
    page.set_input_files("#id_file", str(filled))
    with page.expect_navigation():
        page.get_by_role("button", name="开始导入").click()

    status = page.get_by_test_id("import-status")
    progress = page.get_by_test_id("import-progress")
    expect(status).to_have_attribute("data-status", "pending")
    expect(progress).to_be_visible()
    (run_id,) = held_tasks

    # The page polls every second; the first poll finds the worker part-way, the next the
    # finished run. (Work happens while a poll is held, so no request races the import.)
    polls: list[int] = []

    def worker(route: Any) -> None:
        if route.request.headers.get("hx-request") == "true":
            polls.append(1)
            if len(polls) == 1:
                TaskRun.objects.filter(pk=run_id).update(
                    status=TaskStatus.RUNNING, progress=2, total=5, message="已处理 2 / 5 行"
                )
            elif len(polls) == 2:
                tasks.execute(run_id)
        route.continue_()

    page.route(re.compile(r".*/org/imports/[0-9a-f-]{36}/$"), worker)
    expect(progress).to_have_attribute("value", "40")
    expect(status).to_contain_text("已处理 2 / 5 行")
    expect(status).to_have_attribute("data-status", "done")
    expect(progress).to_have_attribute("value", "100")
    expect(page.get_by_test_id("import-summary")).to_have_text(
        "导入完成：新增 3 条，更新 0 条，未导入 2 条。"
    )
    expect(page.get_by_test_id("imported")).to_have_text("3")
    expect(page.get_by_test_id("rejected")).to_have_text("2")
    assert Person.objects.filter(name__startswith="导入居民").count() == 3
    screenshot(page, "test_import_result")

    with page.expect_download() as report:
        page.get_by_test_id("error-report").click()
    report_wb = load_workbook(io.BytesIO(Path(report.value.path()).read_bytes()))
    rows = list(report_wb.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:4] == ("行号", "列", "原值", "原因")
    assert [(r[0], r[1]) for r in rows[1:]] == [(6, "社区"), (7, "身份证号")]
    assert rows[1][3] == "社区“晨兴社区”不存在或不在您的管辖范围内"
    assert str(rows[2][3]).startswith("身份证号校验位应为")
