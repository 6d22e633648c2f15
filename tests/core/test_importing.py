"""The import framework: reading files, normalising cells, headers, error reports, templates,
and the export side of core.xlsx (formula escaping, masking)."""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django import forms
from openpyxl import load_workbook

from sanlian.core.importing import (
    BatchOutcome,
    CellError,
    Column,
    ColumnKind,
    ImportFileError,
    ImportSpec,
    Row,
    form_parser,
    normalise_cell,
    open_sheet,
    run_import,
    sniff_format,
    template_bytes,
)
from sanlian.core.xlsx import Disclosure, safe_cell

from ..organizations.factories_imports import read_rows, write_ods, write_xlsx

# Batches are written in transactions, even those of the toy spec below.
pytestmark = pytest.mark.django_db

# ---- a small spec of our own ---------------------------------------------------------------


class ToyForm(forms.Form):
    name = forms.CharField(max_length=10)
    code = forms.CharField(required=False)
    when = forms.DateField(required=False)
    flag = forms.NullBooleanField(required=False)
    color = forms.ChoiceField(choices=[("r", "红"), ("g", "绿")], required=False)

    def __init__(self, *args: Any, context: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


def _toy_upsert(rows: list[Row], ctx: Any) -> BatchOutcome:
    ctx.batches.append([r.number for r in rows])
    ctx.rows.extend(r.data for r in rows)
    return BatchOutcome(imported=len(rows))


TOY = ImportSpec(
    kind="toy",
    title="玩具",
    columns=(
        Column("名称", "name", True, example="示例", aliases=("name", "名字")),
        Column("编号", "code", kind=ColumnKind.CODE, example="001"),
        Column("日期", "when", kind=ColumnKind.DATE, example="2024-01-01"),
        Column("是否", "flag", kind=ColumnKind.BOOL, example="否"),
        Column("颜色", "color", kind=ColumnKind.CHOICE, choices=(("r", "红"), ("g", "绿"))),
    ),
    parse_row=form_parser(ToyForm),
    natural_key=lambda d: d["name"],
    key_field="name",
    upsert=_toy_upsert,
    make_context=lambda user, run: SimpleNamespace(batches=[], rows=[]),
    batch_size=2,
)
HEADERS = ("名称", "编号", "日期", "是否", "颜色")


def _run(path: Path, tmp_path: Path, spec: ImportSpec = TOY) -> tuple[Any, Any]:
    ctx = SimpleNamespace(batches=[], rows=[])
    from dataclasses import replace

    result = run_import(
        replace(spec, make_context=lambda user, run: ctx),
        path=path,
        user=None,
        report_path=tmp_path / "errors.xlsx",
    )
    return result, ctx


def _col(kind: ColumnKind, **kw: Any) -> Column:
    return Column("列", "f", kind=kind, **kw)


# ---- cells ---------------------------------------------------------------------------------


def test_excel_serial_number_in_a_date_column_is_a_date() -> None:
    assert normalise_cell(45356, _col(ColumnKind.DATE)) == dt.date(2024, 3, 5)


@pytest.mark.parametrize(
    "text",
    ["2024-03-05", "2024/3/5", "2024年3月5日", "20240305", "2024.3.5", "2024-03-05 00:00:00"],
)
def test_text_dates_are_read(text: str) -> None:
    assert normalise_cell(text, _col(ColumnKind.DATE)) == dt.date(2024, 3, 5)


def test_full_width_digits_in_a_text_date_are_read() -> None:
    assert normalise_cell("２０２４年３月５日", _col(ColumnKind.DATE)) == dt.date(2024, 3, 5)


def test_an_ambiguous_date_is_reported_not_guessed() -> None:
    with pytest.raises(CellError, match="无法识别的日期“03/05/2024”"):
        normalise_cell("03/05/2024", _col(ColumnKind.DATE))


def test_an_impossible_date_is_reported() -> None:
    with pytest.raises(CellError, match="不存在"):
        normalise_cell("2024-02-30", _col(ColumnKind.DATE))


def test_an_integral_float_code_loses_its_point_zero() -> None:
    assert normalise_cell(13912345678.0, _col(ColumnKind.CODE)) == "13912345678"


def test_a_code_longer_than_excel_keeps_is_reported() -> None:
    with pytest.raises(CellError, match="末尾数字可能已丢失"):
        normalise_cell(1.2345678901234567e16, _col(ColumnKind.CODE))


def test_a_code_in_scientific_notation_text_is_reported() -> None:
    with pytest.raises(CellError, match="科学计数法"):
        normalise_cell("1.39123E+10", _col(ColumnKind.CODE))


def test_an_id_number_stored_as_a_number_is_reported() -> None:
    with pytest.raises(CellError, match="身份证号被Excel存成了数字，末尾数字可能已丢失"):
        normalise_cell(2.10102198005170e17, _col(ColumnKind.RESIDENT_ID))


def test_an_id_number_in_scientific_notation_text_is_reported() -> None:
    with pytest.raises(CellError, match="请将该列设为文本格式"):
        normalise_cell("2.10102E+17", _col(ColumnKind.RESIDENT_ID))


def test_full_width_characters_of_an_id_number_are_folded() -> None:
    value = normalise_cell("２１０１０２１９８００５１７００１ｘ", _col(ColumnKind.RESIDENT_ID))
    assert value == "21010219800517001x"


def test_text_is_stripped_of_blanks_and_invisible_characters() -> None:
    assert normalise_cell("\u3000张三 \u200b", _col(ColumnKind.TEXT)) == "张三"


def test_full_width_digits_in_text_are_folded() -> None:
    assert normalise_cell("幸福路１２号", _col(ColumnKind.TEXT)) == "幸福路12号"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("是", True), ("否", False), ("Y", True), ("n", False), (True, True), (0, False), ("√", True)],
)
def test_yes_no_cells(value: Any, expected: bool) -> None:
    assert normalise_cell(value, _col(ColumnKind.BOOL)) is expected


def test_an_unknown_yes_no_value_is_reported() -> None:
    with pytest.raises(CellError, match="应填写“是”或“否”"):
        normalise_cell("也许", _col(ColumnKind.BOOL))


def test_a_choice_label_gives_its_stored_value() -> None:
    col = _col(ColumnKind.CHOICE, choices=(("r", "红"), ("g", "绿")))
    assert normalise_cell(" 绿 ", col) == "g"


def test_an_unknown_choice_lists_the_choices() -> None:
    col = _col(ColumnKind.CHOICE, choices=(("r", "红"), ("g", "绿")))
    with pytest.raises(CellError, match="可选：红、绿"):
        normalise_cell("蓝", col)


# ---- files ---------------------------------------------------------------------------------


def test_random_bytes_are_not_an_excel_file(tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(ImportFileError, match="文件不是Excel表格"):
        sniff_format(path)


def test_a_text_file_renamed_xlsx_is_not_an_excel_file(tmp_path: Path) -> None:
    path = tmp_path / "名单.xlsx"
    path.write_text("姓名,身份证号\n张三,210102198005170011\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="另存为"):
        sniff_format(path)


def test_a_pdf_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "名单.xlsx"
    path.write_bytes(b"%PDF-1.7\n" + os.urandom(100))
    with pytest.raises(ImportFileError, match="这是PDF文件"):
        sniff_format(path)


def test_a_word_document_is_not_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "名单.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(ImportFileError, match="可能是Word文档"):
        sniff_format(path)


def test_a_truncated_xlsx_is_reported_as_damaged(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", [["张三"]], HEADERS)
    path = tmp_path / "broken.xlsx"
    path.write_bytes(good.read_bytes()[:600])
    with pytest.raises(ImportFileError, match="文件已损坏"):
        open_sheet(path)


def test_an_empty_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    with pytest.raises(ImportFileError, match="文件是空的"):
        sniff_format(path)


def test_a_file_above_the_size_cap_is_refused(tmp_path: Path, settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 1024
    path = write_xlsx(tmp_path / "big.xlsx", [[f"名字{i}"] for i in range(200)], HEADERS)
    with pytest.raises(ImportFileError, match="超过上限"):
        open_sheet(path)


def test_an_ods_file_is_imported(tmp_path: Path) -> None:
    path = write_ods(
        tmp_path / "libre.ods", [list(HEADERS), ["张三", "7", "2024-03-05", "是", "红"]]
    )
    _result, ctx = _run(path, tmp_path)
    assert ctx.rows == [
        {"name": "张三", "code": "7", "when": dt.date(2024, 3, 5), "flag": True, "color": "r"}
    ]


@pytest.mark.parametrize("fast_limit", [10 * 1024 * 1024, 0], ids=["calamine", "openpyxl"])
def test_both_readers_give_the_same_rows(tmp_path: Path, settings: Any, fast_limit: int) -> None:
    settings.IMPORT_FAST_READER_MAX_XML_BYTES = fast_limit
    rows = [
        ["张三", 13912345678, dt.datetime(2024, 3, 5), True, "绿"],
        ["李四", "0012", 45356, "否", None],
    ]
    _result, ctx = _run(write_xlsx(tmp_path / "a.xlsx", rows, HEADERS), tmp_path)
    assert ctx.rows == [
        {
            "name": "张三",
            "code": "13912345678",
            "when": dt.date(2024, 3, 5),
            "flag": True,
            "color": "g",
        },
        {"name": "李四", "code": "0012", "when": dt.date(2024, 3, 5), "flag": False, "color": ""},
    ]


def test_the_streaming_reader_is_chosen_above_the_fast_reader_limit(
    tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_FAST_READER_MAX_XML_BYTES = 0
    path = write_xlsx(tmp_path / "a.xlsx", [["张三"]], HEADERS)
    assert open_sheet(path).reader == "streaming"


def test_the_reader_follows_the_size_of_the_sheets_xml(tmp_path: Path, settings: Any) -> None:
    """calamine's memory follows the uncompressed XML, which the zip's directory tells."""
    from sanlian.core.importing import _xml_bytes

    path = write_xlsx(tmp_path / "a.xlsx", [["张三", "7"]] * 2000, HEADERS)
    with zipfile.ZipFile(path) as zf:
        sheet = sum(i.file_size for i in zf.infolist() if i.filename.startswith("xl/worksheets/"))
    assert _xml_bytes(path) >= sheet > 5 * path.stat().st_size
    settings.IMPORT_FAST_READER_MAX_XML_BYTES = _xml_bytes(path)
    assert open_sheet(path).reader == "calamine"
    settings.IMPORT_FAST_READER_MAX_XML_BYTES = _xml_bytes(path) - 1
    assert open_sheet(path).reader == "streaming"


# ---- headers and rows ----------------------------------------------------------------------


def test_a_title_row_above_the_header_is_skipped(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [["张三"]], HEADERS, title_row="2024年名单")
    _result, ctx = _run(path, tmp_path)
    assert [r["name"] for r in ctx.rows] == ["张三"]


def test_headers_match_aliases_marks_and_english(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [["张三", "9"]], ("Name", "编号（必填）*"))
    _result, ctx = _run(path, tmp_path)
    assert [(r["name"], r["code"]) for r in ctx.rows] == [("张三", "9")]


def test_extra_columns_are_ignored_and_named(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [["张三", "备注"]], ("名称", "备注"))
    result, ctx = _run(path, tmp_path)
    assert (len(ctx.rows), result.ignored_columns) == (1, ["备注"])


def test_a_missing_required_column_stops_the_import_before_any_row(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [["7"]], ("编号",))
    result, ctx = _run(path, tmp_path)
    assert (result.file_error, ctx.batches) == ("缺少必填列：名称", [])


def test_a_sheet_without_a_header_row_is_reported(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [["甲", "乙"]], ("x", "y"))
    result, _ctx = _run(path, tmp_path)
    assert result.file_error.startswith("没有找到表头行")


def test_empty_rows_are_skipped(tmp_path: Path) -> None:
    rows = [["张三"], [None, None], ["", "  "], ["李四"]]
    result, ctx = _run(write_xlsx(tmp_path / "a.xlsx", rows, HEADERS), tmp_path)
    assert (result.rows, [r["name"] for r in ctx.rows]) == (2, ["张三", "李四"])


def test_the_unchanged_example_row_is_ignored(tmp_path: Path) -> None:
    rows = [["示例", "001", "2024-01-01", "否", None], ["张三"]]
    _result, ctx = _run(write_xlsx(tmp_path / "a.xlsx", rows, HEADERS), tmp_path)
    assert [r["name"] for r in ctx.rows] == ["张三"]


def test_an_edited_example_row_is_imported(tmp_path: Path) -> None:
    rows = [["示例", "002", "2024-01-01", "否", None]]
    _result, ctx = _run(write_xlsx(tmp_path / "a.xlsx", rows, HEADERS), tmp_path)
    assert [r["code"] for r in ctx.rows] == ["002"]


def test_valid_rows_go_in_batches_of_the_spec_size(tmp_path: Path) -> None:
    rows = [[f"人{i}"] for i in range(5)]
    _result, ctx = _run(write_xlsx(tmp_path / "a.xlsx", rows, HEADERS), tmp_path)
    assert ctx.batches == [[2, 3], [4, 5], [6]]


def test_the_second_row_with_the_same_key_is_reported(tmp_path: Path) -> None:
    rows = [["张三"], ["李四"], ["张三"]]
    _result, _ctx = _run(write_xlsx(tmp_path / "a.xlsx", rows, HEADERS), tmp_path)
    report = read_rows(tmp_path / "errors.xlsx")
    assert report[1][:4] == (4, "名称", "张三", "与第 2 行重复（名称相同），本行未导入")


# ---- the error report ----------------------------------------------------------------------


def test_the_error_report_has_row_column_value_reason_and_the_row(tmp_path: Path) -> None:
    rows = [["张三"], ["一个很长很长很长的名字", "x", "2024-13-01", "也许", "蓝"]]
    result, ctx = _run(write_xlsx(tmp_path / "a.xlsx", rows, HEADERS), tmp_path)
    report = read_rows(tmp_path / "errors.xlsx")
    assert report[0] == ("行号", "列", "原值", "原因", *HEADERS)
    assert {(r[0], r[1]) for r in report[1:]} == {
        (3, "名称"),
        (3, "日期"),
        (3, "是否"),
        (3, "颜色"),
    }
    assert report[1][4:] == ("一个很长很长很长的名字", "x", "2024-13-01", "也许", "蓝")
    assert (result.rejected, result.rows, len(ctx.rows)) == (1, 2, 1)


def test_the_error_report_escapes_formulas(tmp_path: Path) -> None:
    rows = [['=HYPERLINK("http://x","点我")', None, "bad date"]]
    _result, _ctx = _run(write_xlsx(tmp_path / "a.xlsx", rows, HEADERS), tmp_path)
    wb = load_workbook(tmp_path / "errors.xlsx")
    cell = wb.active.cell(row=2, column=5)
    assert (cell.data_type, cell.value) == ("s", '\'=HYPERLINK("http://x","点我")')


def test_no_error_report_when_every_row_is_valid(tmp_path: Path) -> None:
    result, _ctx = _run(write_xlsx(tmp_path / "a.xlsx", [["张三"]], HEADERS), tmp_path)
    assert (result.error_report, (tmp_path / "errors.xlsx").exists()) == ("", False)


# ---- the template --------------------------------------------------------------------------


def test_the_template_has_the_headers_and_a_grey_italic_example() -> None:
    wb = load_workbook(__import__("io").BytesIO(template_bytes(TOY)))
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == list(HEADERS)
    assert (ws["A2"].value, ws["A2"].font.i, ws["A2"].font.color.rgb) == ("示例", True, "00808080")


def test_the_template_offers_drop_downs_for_choice_and_yes_no_columns() -> None:
    wb = load_workbook(__import__("io").BytesIO(template_bytes(TOY)))
    formulas = sorted(dv.formula1 for dv in wb.worksheets[0].data_validations.dataValidation)
    assert formulas == ['"是,否"', '"红,绿"']


def test_the_template_explains_each_column_on_a_second_sheet() -> None:
    wb = load_workbook(__import__("io").BytesIO(template_bytes(TOY)))
    notes = [r[0] for r in wb["填写说明"].iter_rows(values_only=True)]
    assert set(HEADERS) <= set(notes)


def test_the_template_as_downloaded_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    path.write_bytes(template_bytes(TOY))
    result, ctx = _run(path, tmp_path)
    assert (result.file_error, result.rows, ctx.rows) == ("", 0, [])


# ---- exports -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1", " =1", "\u3000=1", "＝1+1"]
)
def test_formula_like_text_is_escaped(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["正常", "a=b", "2024-03-05", 42, -3.5, None])
def test_ordinary_values_are_left_alone(value: Any) -> None:
    assert safe_cell(value) == value


def test_masked_phone_keeps_the_first_three_and_last_four() -> None:
    assert Disclosure(full_phone=False).phone("13912345678") == "139****5678"


def test_full_phone_for_those_allowed() -> None:
    assert Disclosure(full_phone=True).phone("13912345678") == "13912345678"


def test_a_streamed_sheet_broken_midway_keeps_the_rows_read_and_says_where(
    tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_FAST_READER_MAX_XML_BYTES = 0  # streamed, as a large file is
    good = write_xlsx(tmp_path / "a.xlsx", [[f"名{i}", str(i)] for i in range(3000)], HEADERS)
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"<row r='9999'><c r='A9999'><v>1</v></row>")
            dst.writestr(item, data)
    result, ctx = _run(broken, tmp_path)
    assert "行之后已损坏" in result.file_error
    assert 0 < result.imported == len(ctx.rows) < 3000
