"""Spreadsheets for the import tests, written with openpyxl (no binary fixtures in the tree)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from openpyxl import Workbook, load_workbook

from sanlian.core import tasks
from sanlian.core.models import TaskRun, User
from sanlian.core.validators import generate_resident_id

PEOPLE_HEADERS = ("姓名", "性别", "身份证号", "手机号", "社区", "住址", "工作单位", "是否退休")
MEMBER_HEADERS = (*PEOPLE_HEADERS, "会员证号", "所属工会", "入会时间", "会员状态")


def resident_id(n: int, born: dt.date = dt.date(1990, 2, 3), region: str = "210102") -> str:
    """A valid ID number; n (0-999) makes it unique within a birth date."""
    return generate_resident_id(region, born, n)


def bad_check_digit(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("0" if last != "0" else "1")


def person_row(n: int, community: str = "凯旋社区", **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "姓名": f"导入{n}",
        "性别": "",
        "身份证号": resident_id(n),
        "手机号": f"139{n:08d}",
        "社区": community,
        "住址": f"和平区测试路{n}号",
        "工作单位": "测试公司",
        "是否退休": "否",
    }
    row.update(over)
    return row


def write_xlsx(
    path: Path,
    rows: Iterable[dict[str, Any] | Sequence[Any]],
    headers: Sequence[str] = PEOPLE_HEADERS,
    *,
    title_row: str | None = None,
    sheet: str = "Sheet1",
) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    if title_row is not None:
        ws.append([title_row])
    ws.append(list(headers))
    for row in rows:
        ws.append([row.get(h) for h in headers] if isinstance(row, dict) else list(row))
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula, as WPS keeps it
    wb.save(path)
    return path


def write_ods(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    """A minimal OpenDocument spreadsheet (what LibreOffice saves), built by hand."""
    body = "".join(
        "<table:table-row>"
        + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{escape(str(v))}</text:p>'
            "</table:table-cell>"
            for v in row
        )
        + "</table:table-row>"
        for row in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Sheet1">'
        f"{body}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return path


def read_rows(source: Path | bytes, sheet: int | str = 0) -> list[tuple[Any, ...]]:
    data = io.BytesIO(source) if isinstance(source, bytes) else source
    wb = load_workbook(data)
    ws = wb.worksheets[sheet] if isinstance(sheet, int) else wb[sheet]
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


@pytest.fixture
def data_dir(settings: Any, tmp_path: Path) -> Path:
    """Uploaded files and error reports go to a directory of the test's own."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return Path(settings.DATA_DIR)


def run_file(path: Path, user: User | None, kind: str = "people") -> TaskRun:
    """Import a file as the page does, in the foreground; the finished run."""
    from sanlian.organizations import importers

    run = importers.import_start(
        by=user, kind=kind, source=path, filename=path.name, file_format="xlsx", dispatch=False
    )
    tasks.execute(str(run.pk))
    run.refresh_from_db()
    return run


def counts(run: TaskRun) -> tuple[int, int, int]:
    return run.result["imported"], run.result["updated"], run.result["rejected"]


def report_lines(run: TaskRun) -> list[tuple[Any, ...]]:
    """(行号, 列, 原值, 原因) of each line of the run's error report."""
    from sanlian.organizations import importers

    path = importers.error_report_path(run)
    assert path is not None, "no error report"
    return [r[:4] for r in read_rows(path)[1:]]
