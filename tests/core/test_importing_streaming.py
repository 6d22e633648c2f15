"""The streaming xlsx reader (large files): the same values as openpyxl's read-only mode,
for the ways Excel, WPS and LibreOffice write cells, and a clear error for a broken file."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from sanlian.core import importing
from sanlian.core.importing import ImportFileError, _open_streaming


def _trimmed(row: Any) -> list[Any]:
    cells = list(row)
    while cells and cells[-1] is None:
        cells.pop()
    return cells


def _openpyxl_rows(path: Path) -> list[list[Any]]:
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        return [_trimmed(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()


def _streamed(path: Path) -> list[list[Any]]:
    return [_trimmed(r) for r in _open_streaming(path).rows]


def _workbook_of_every_kind(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "居民与会员"
    ws.append(["姓名", "身份证号", "入会时间", "工资", "在职", "备注"])
    ws.append(["张三", "11010519491231002X", dt.date(2024, 3, 5), 5200, True, None])
    ws.append(["李四", "0012", dt.datetime(2024, 3, 5, 14, 30), 5200.5, False, "=1+1 不是公式"])
    ws.append([None, None, None, None, None, None])  # an empty row inside the data
    ws["A5"] = "王五"
    ws["F5"] = "只有首尾两列"  # a sparse row: B..E missing from the file
    ws["A6"] = CellRichText(["赵", TextBlock(InlineFont(b=True), "六")])  # rich text
    ws["C6"] = 45356
    ws["C6"].number_format = "yyyy年m月d日"  # a Chinese date format is still a date
    ws["D6"] = dt.time(8, 30)
    ws["A8"] = "空行之后"  # row 7 is left out of the file altogether
    wb.save(path)
    return path


def test_every_kind_of_cell_reads_as_openpyxl_reads_it(tmp_path: Path) -> None:
    path = _workbook_of_every_kind(tmp_path / "kinds.xlsx")
    assert _streamed(path) == _openpyxl_rows(path)


def test_rows_left_out_of_the_file_are_empty_rows(tmp_path: Path) -> None:
    rows = _streamed(_workbook_of_every_kind(tmp_path / "kinds.xlsx"))
    assert rows[6:8] == [[], ["空行之后"]]


def test_shared_strings_spilled_to_disk_read_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing._SharedStrings, "SPILL_BYTES", 64)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for i in range(300):
        ws.append([f"社区居民{i}", f"凯旋社区第{i % 17}网格"])
    path = tmp_path / "many.xlsx"
    wb.save(path)
    assert _streamed(path) == _openpyxl_rows(path)


def _hand_made_xlsx(path: Path, sheet_xml: str, *, date1904: bool = False) -> Path:
    """A minimal package as WPS or another tool might write it (inline strings, no shared
    strings part, no dimension)."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pr = "http://schemas.openxmlformats.org/package/2006/relationships"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{pr}"><Relationship Id="r1" Type="{rel}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        pr_1904 = '<workbookPr date1904="1"/>' if date1904 else ""
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{ns}" xmlns:r="{rel}">{pr_1904}<sheets>'
            '<sheet name="说明" sheetId="1" r:id="rId1" state="hidden"/>'
            '<sheet name="数据" sheetId="2" r:id="rId2"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{pr}">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/worksheet" Target="worksheets/sheet2.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{ns}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
            "隐藏的说明</t></is></c></row></sheetData></worksheet>",
        )
        z.writestr("xl/worksheets/sheet2.xml", f'<worksheet xmlns="{ns}">{sheet_xml}</worksheet>')
    return path


def test_inline_strings_without_cell_references_are_read(tmp_path: Path) -> None:
    sheet = (
        "<sheetData>"
        '<row><c t="inlineStr"><is><t>姓名</t></is></c><c t="inlineStr"><is><t>电话</t></is></c></row>'
        '<row><c t="inlineStr"><is><r><t>张</t></r><r><t>三</t></r>'
        "<rPh><t>zhang</t></rPh></is></c><c><v>13912345678</v></c></row>"
        "</sheetData>"
    )
    path = _hand_made_xlsx(tmp_path / "wps.xlsx", sheet)
    assert _streamed(path) == [["姓名", "电话"], ["张三", 13912345678]]


def test_the_visible_sheet_is_read_not_the_hidden_one(tmp_path: Path) -> None:
    sheet = (
        '<sheetData><row r="1"><c r="B1" t="inlineStr"><is><t>数据</t></is></c></row></sheetData>'
    )
    path = _hand_made_xlsx(tmp_path / "two.xlsx", sheet)
    assert _streamed(path) == [[None, "数据"]]


@pytest.mark.parametrize(
    "content",
    [b"not a zip at all", b"PK\x03\x04 truncated"],
    ids=["not-zip", "truncated-zip"],
)
def test_a_broken_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match="文件已损坏"):
        _open_streaming(path)


def test_a_sheet_broken_midway_says_after_which_row(tmp_path: Path) -> None:
    sheet = (
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c></row>'
        '<row r="2"><c r="A2"><v>1</v></row></sheetData>'  # </c> missing: malformed XML
    )
    path = _hand_made_xlsx(tmp_path / "bad.xlsx", sheet)
    with pytest.raises(ImportFileError, match="行之后已损坏"):
        _streamed(path)
