"""Excel in: read a spreadsheet row by row, validate every row, upsert the valid ones in
committed batches, and write every rejected row to an error report.

An app describes one kind of import with an `ImportSpec`: its columns (Chinese header,
aliases, kind of cell), a row parser (normally a Django form, so that the page, the import
and the API share their rules), a natural key and a bulk upsert. `run_import` does the rest:

- reading: xlsx, xls, xlsb and ods through python-calamine, which parses a 100,000-row
  sheet in about a second but holds the whole sheet (about 17 times the xlsx size in memory);
  an xlsx above `IMPORT_FAST_READER_MAX_BYTES` is streamed with openpyxl's read-only mode
  instead (about 14 times slower, constant memory). Files above `IMPORT_MAX_BYTES` are refused.
- cells are normalised where the meaning is certain (Excel serial and text dates, integral
  floats, full-width digits, spaces) and reported where it is not (an ID number that Excel
  stored as a number has lost its last digits).
- batches of `batch_size` valid rows are written each in its own transaction, which also
  records the checkpoint (last row written, counts so far) on the TaskRun. A worker that dies
  loses at most the open batch; the re-run skips the committed batches and the natural-key
  upsert makes anything repeated harmless.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import zipfile
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .xlsx import safe_cell

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

    from .models import TaskRun, User
else:
    StrOrPromise = str

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_FAST_READER_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_BATCH_SIZE = 2000
INSTRUCTIONS_SHEET = "填写说明"
# Header search: the header is the first row that names a known column, among the first few
# non-empty rows (a title row above the header is common in hand-made sheets).
HEADER_SEARCH_ROWS = 20
PROGRESS_EVERY_ROWS = 5000


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def imports_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---- columns and specs ---------------------------------------------------------------------


class ColumnKind(enum.StrEnum):
    TEXT = "text"
    # An identifier kept as text (phone, card number, credit code): an integral number is
    # taken without ".0"; one too long for Excel's 15 digits or in scientific form is refused.
    CODE = "code"
    # A resident ID number: as a number it has always lost digits (18 > 15) or its X.
    RESIDENT_ID = "resident_id"
    DATE = "date"
    BOOL = "bool"
    CHOICE = "choice"


@dataclass(frozen=True)
class Column:
    header: str  # the Chinese header of the template, also what the error report names
    field: str
    required: bool = False
    kind: ColumnKind = ColumnKind.TEXT
    help: StrOrPromise = ""
    example: str = ""
    aliases: tuple[str, ...] = ()
    choices: tuple[tuple[str, str], ...] = ()  # (stored value, label shown in the sheet)
    synonyms: tuple[tuple[str, str], ...] = ()  # more (stored value, text) accepted on import

    def names(self) -> set[str]:
        return {header_key(n) for n in (self.header, self.field, *self.aliases)}


@dataclass
class Row:
    """One valid row: its number as the spreadsheet shows it, its cleaned values and the
    cells as read (for the error report, should the upsert refuse it)."""

    number: int
    data: dict[str, Any]
    cells: Sequence[Any] = ()


RowErrors = list[tuple[str, str]]  # (field name, or "" for the whole row; Chinese reason)


@dataclass
class BatchOutcome:
    imported: int = 0
    updated: int = 0
    # Rows the upsert refused after looking at the database: (row number, field, reason).
    rejected: list[tuple[int, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ImportSpec:
    kind: str
    title: StrOrPromise
    columns: tuple[Column, ...]
    # cleaned values of one row (by field name) and the run's context -> cleaned row or errors
    parse_row: Callable[[dict[str, Any], Any], dict[str, Any] | RowErrors]
    natural_key: Callable[[dict[str, Any]], Hashable]
    key_field: str
    upsert: Callable[[list[Row], Any], BatchOutcome]
    # (importing user or None for the shell, the run) -> lookups and whatever upserts need
    make_context: Callable[[User | None, TaskRun | None], Any]
    unique_fields: tuple[str, ...] = ()
    roles: frozenset[str] = frozenset()
    instructions: tuple[StrOrPromise, ...] = ()
    batch_size: int = 0  # 0: settings.IMPORT_BATCH_SIZE or 2,000

    def column(self, field_name: str) -> Column | None:
        return next((c for c in self.columns if c.field == field_name), None)

    def header_of(self, field_name: str) -> str:
        col = self.column(field_name)
        return col.header if col is not None else ""

    def effective_batch_size(self) -> int:
        return self.batch_size or int(getattr(settings, "IMPORT_BATCH_SIZE", DEFAULT_BATCH_SIZE))


def form_parser(
    form_class: type[forms.Form],
) -> Callable[[dict[str, Any], Any], dict[str, Any] | RowErrors]:
    """A row parser that validates with a Django form (given the run's context as `context`).

    One form per run is bound to each row in turn: building a form deep-copies all its
    fields, which cost more than the validation itself (about 1 ms a row)."""

    def parse(values: dict[str, Any], context: Any) -> dict[str, Any] | RowErrors:
        state = getattr(context, "__dict__", {})  # the run's context keeps its forms
        forms_of_run: dict[type[forms.Form], forms.Form] = state.setdefault("_row_forms", {})
        form = forms_of_run.get(form_class)
        if form is None:
            form = forms_of_run[form_class] = form_class(data=values, context=context)  # type: ignore[call-arg]
        else:
            form.data = values
            form._errors = None  # type: ignore[attr-defined]  # full_clean() runs again
        if form.is_valid():
            return form.cleaned_data
        return form_errors(form)

    return parse


def form_errors(form: forms.BaseForm) -> RowErrors:
    out: RowErrors = []
    for name, messages in form.errors.items():
        for message in messages:
            out.append(("" if name == NON_FIELD_ERRORS else name, str(message)))
    return out


# ---- reading files -------------------------------------------------------------------------


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message says why, in Chinese."""


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


def sniff_format(source: Path | BinaryIO) -> str:
    """ "xlsx", "xlsb", "xls" or "ods" from the content (never from the name), or raise."""
    if isinstance(source, Path | str):
        with open(source, "rb") as fh:
            return _sniff(fh)
    position = source.tell()
    try:
        return _sniff(source)
    finally:
        source.seek(position)


def _sniff(fh: BinaryIO) -> str:
    head = fh.read(8)
    fh.seek(0)
    if not head:
        raise ImportFileError(_("文件是空的，请检查后重新上传。"))
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(fh) as zf:
                names = set(zf.namelist())
                if "mimetype" in names and zf.read("mimetype").strip() == _ODS_MIME:
                    return "ods"
        except (zipfile.BadZipFile, OSError, KeyError, EOFError):
            raise ImportFileError(_("文件已损坏，无法作为Excel表格打开。")) from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "xl/workbook.bin" in names:
            return "xlsb"
        raise ImportFileError(
            _(
                "文件不是Excel表格（可能是Word文档或其他压缩文件）。请上传 .xlsx、.xls 或 .ods 文件。"
            )
        )
    if head.startswith(_OLE2):
        return "xls"  # also an encrypted xlsx: calamine tells which when it opens it
    if head.startswith(b"%PDF"):
        raise ImportFileError(_("这是PDF文件，不是Excel表格。请上传 .xlsx、.xls 或 .ods 文件。"))
    raise ImportFileError(
        _(
            "文件不是Excel表格（.xlsx、.xls 或 .ods）。如果是从其他系统导出的文件，"
            "请用Excel、WPS或LibreOffice打开后“另存为”.xlsx 格式再上传。"
        )
    )


def check_size(size: int) -> None:
    limit = max_bytes()
    if size > limit:
        raise ImportFileError(
            _("文件大小为 %(size).1f MB，超过上限 %(limit).0f MB。请把数据拆成几个文件分别导入。")
            % {"size": size / 1024 / 1024, "limit": limit / 1024 / 1024}
        )


@dataclass
class Sheet:
    rows: Iterator[Sequence[Any]]  # from row 1 of the sheet, empty rows included
    total: int  # rows in the sheet as far as the file says (for the progress bar)
    reader: str


def _data_sheet_index(names: Sequence[str]) -> int:
    for i, name in enumerate(names):
        if name.strip() != INSTRUCTIONS_SHEET:
            return i
    return 0


def open_sheet(path: Path) -> Sheet:
    path = Path(path)
    size = path.stat().st_size
    check_size(size)
    fmt = sniff_format(path)
    fast_limit = int(
        getattr(settings, "IMPORT_FAST_READER_MAX_BYTES", DEFAULT_FAST_READER_MAX_BYTES)
    )
    if fmt == "xlsx" and size > fast_limit:
        return _open_openpyxl(path)
    return _open_calamine(path)


def _open_calamine(path: Path) -> Sheet:
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetVisibleEnum

    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = [
            m.name for m in wb.sheets_metadata if m.visible == SheetVisibleEnum.Visible
        ] or wb.sheet_names
        sheet = wb.get_sheet_by_name(names[_data_sheet_index(names)])
    except PasswordError:
        raise ImportFileError(_("文件设置了打开密码，请取消密码后再上传。")) from None
    except (CalamineError, ValueError, OSError):
        raise ImportFileError(_("文件已损坏，无法作为Excel表格打开。")) from None
    end = sheet.end
    return Sheet(rows=iter(sheet.iter_rows()), total=end[0] + 1 if end else 0, reader="calamine")


def _open_openpyxl(path: Path) -> Sheet:
    from xml.etree.ElementTree import ParseError

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    broken = (zipfile.BadZipFile, InvalidFileException, ParseError, KeyError, ValueError, OSError)
    # A file object: openpyxl refuses a path whose name does not end in .xlsx.
    fh = open(path, "rb")  # noqa: SIM115 - closed when the rows are read or on error
    try:
        wb = load_workbook(fh, read_only=True, data_only=True)
        ws = wb.worksheets[_data_sheet_index(wb.sheetnames)]
        total = ws.max_row or 0
    except broken:
        fh.close()
        raise ImportFileError(_("文件已损坏，无法作为Excel表格打开。")) from None

    def rows() -> Iterator[Sequence[Any]]:
        number = 0
        try:
            for number, row in enumerate(ws.iter_rows(values_only=True), start=1):  # noqa: B007
                yield row
        except broken:
            raise ImportFileError(
                _("文件在第 %(row)d 行之后已损坏，无法继续读取。") % {"row": number}
            ) from None
        finally:
            wb.close()
            fh.close()

    return Sheet(rows=rows(), total=total, reader="openpyxl")


# ---- normalising cells ---------------------------------------------------------------------


class CellError(Exception):
    """A cell whose meaning is not certain; the message says what to do, in Chinese."""


_FULLWIDTH_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH_DIGITS = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)}
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_BLANKS = " \t\r\n\u3000\u00a0"
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
_DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+\d{1,2}[:：]\d{2}(?:[:：]\d{2}(?:\.\d+)?)?)?$"
)
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Excel's day 0 of the 1900 date system (it counts a non-existent 1900-02-29, so serials
# from March 1900 on land right from this origin).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_LAST_SERIAL = 2958465  # 9999-12-31
_TRUE = frozenset({"是", "y", "yes", "true", "1", "√", "✓", "✔", "对", "有"})
_FALSE = frozenset({"否", "n", "no", "false", "0", "×", "✗", "✘", "不是", "无"})
_EXCEL_DIGITS = 15


def clean_text(value: str, *, fold_ascii: bool = False) -> str:
    text = value.translate(_INVISIBLE).strip(_BLANKS)
    return text.translate(_FULLWIDTH_ASCII if fold_ascii else _FULLWIDTH_DIGITS)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip(_BLANKS + "\u200b\ufeff"))


def display(value: Any) -> str:
    """A cell as a person would read it (the error report's 原值 column)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M" if value.time() else "%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _number_text(value: int | float, header: str) -> str:
    lost = _("%(column)s被Excel存成了数字，末尾数字可能已丢失，请将该列设为文本格式后重新填写") % {
        "column": header
    }
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(lost)
        value = int(value)
    if len(str(abs(value))) > _EXCEL_DIGITS:
        raise CellError(lost)
    return str(value)


def _date_of(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise CellError(_("无法识别的日期“%(value)s”") % {"value": display(value)})
    if isinstance(value, int | float):
        serial = int(value)
        if not 1 <= serial <= _EXCEL_LAST_SERIAL:
            raise CellError(_("无法识别的日期“%(value)s”") % {"value": display(value)})
        return _EXCEL_EPOCH + dt.timedelta(days=serial)
    text = clean_text(str(value))
    match = _DATE_TEXT.match(text) or _DATE_COMPACT.match(text)
    if match is None:
        raise CellError(
            _("无法识别的日期“%(value)s”，请写成 2024-03-05 这样的格式") % {"value": text}
        )
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise CellError(_("日期“%(value)s”不存在") % {"value": text}) from None


def normalise_cell(value: Any, column: Column) -> Any:
    """The cell's value for the row parser: text, a date, a bool, a choice's stored value,
    or "" / None when empty. Raises CellError where the meaning is not certain."""
    kind = column.kind
    if _is_empty(value):
        return None if kind in (ColumnKind.DATE, ColumnKind.BOOL) else ""
    if kind == ColumnKind.DATE:
        return _date_of(value)
    if kind == ColumnKind.BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        text = clean_text(str(value), fold_ascii=True).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise CellError(_("应填写“是”或“否”，实际为“%(value)s”") % {"value": display(value)})
    if kind == ColumnKind.RESIDENT_ID:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise CellError(
                _("身份证号被Excel存成了数字，末尾数字可能已丢失，请将该列设为文本格式")
            )
        text = clean_text(str(value), fold_ascii=True)
        if _SCIENTIFIC.match(text):
            raise CellError(
                _("身份证号被Excel存成了数字，末尾数字可能已丢失，请将该列设为文本格式")
            )
        return text
    if kind == ColumnKind.CODE:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _number_text(value, column.header)
        text = clean_text(str(value), fold_ascii=True)
        if _SCIENTIFIC.match(text):
            raise CellError(
                _(
                    "%(column)s显示为科学计数法（%(value)s），数字已丢失，请将该列设为文本格式后重新填写"
                )
                % {"column": column.header, "value": text}
            )
        return text
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clean_text(display(value))
    if kind == ColumnKind.CHOICE:
        wanted = text.lower()
        for stored, label in (*column.choices, *column.synonyms):
            if wanted in (stored.lower(), label.lower()):
                return stored
        raise CellError(
            _("“%(value)s”不是可选的值，可选：%(choices)s")
            % {"value": text, "choices": "、".join(label for _v, label in column.choices)}
        )
    return text


# ---- the header ----------------------------------------------------------------------------


_HEADER_NOISE = re.compile(r"[\s*＊:：]|[（(]\s*(必填|选填|可选)\s*[)）]")


def header_key(text: Any) -> str:
    return _HEADER_NOISE.sub("", clean_text(display(text), fold_ascii=True)).lower()


@dataclass(frozen=True)
class Header:
    row_number: int
    cells: tuple[str, ...]  # the header cells as written
    positions: dict[str, int]  # field -> column index
    ignored: tuple[str, ...]  # columns of the file that no column of the spec claims


def match_header(cells: Sequence[Any], spec: ImportSpec, row_number: int) -> Header:
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        key = header_key(cell)
        if not key:
            continue
        col = next((c for c in spec.columns if key in c.names()), None)
        if col is None or col.field in positions:
            ignored.append(display(cell))
            continue
        positions[col.field] = index
    return Header(row_number, tuple(display(c) for c in cells), positions, tuple(ignored))


def find_header(rows: Iterator[Sequence[Any]], spec: ImportSpec) -> Header:
    seen = 0
    first: Header | None = None
    for number, cells in enumerate(rows, start=1):
        if all(_is_empty(c) for c in cells):
            continue
        header = match_header(cells, spec, number)
        first = first or header
        if header.positions:
            missing = [
                c.header for c in spec.columns if c.required and c.field not in header.positions
            ]
            if missing:
                raise ImportFileError(
                    _("缺少必填列：%(columns)s") % {"columns": "、".join(missing)}
                )
            return header
        seen += 1
        if seen >= HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise ImportFileError(_("表格中没有数据。"))
    raise ImportFileError(
        _("没有找到表头行。第一行应为列名，例如：%(columns)s")
        % {"columns": "、".join(c.header for c in spec.columns[:6])}
    )


# ---- the error report ----------------------------------------------------------------------


class ErrorReport:
    """Rejected rows, one line per problem: 行号, 列, 原值, 原因, then the row as it was."""

    FIXED = ("行号", "列", "原值", "原因")

    def __init__(self, header: Header | None) -> None:
        self.header = header
        self.count = 0  # lines (problems)
        self.rows: set[int] = set()  # distinct rejected rows
        self._wb: Any = None
        self._ws: Any = None

    def add(self, number: int, column: Column | None, reason: str, cells: Sequence[Any]) -> None:
        if self._wb is None:
            self._start()
        original = ""
        if column is not None and self.header is not None:
            pos = self.header.positions.get(column.field)
            if pos is not None and pos < len(cells):
                original = display(cells[pos])
        self._ws.append(
            [
                number,
                column.header if column is not None else _("整行"),
                safe_cell(original),
                safe_cell(reason),
                *(safe_cell(display(c)) for c in cells),
            ]
        )
        self.count += 1

    def _start(self) -> None:
        self._wb = Workbook(write_only=True)
        self._ws = self._wb.create_sheet(_("错误"))
        self._ws.freeze_panes = "A2"
        bold = Font(bold=True)
        names = [*self.FIXED, *(self.header.cells if self.header else ())]
        cells = []
        for name in names:
            cell = WriteOnlyCell(self._ws, value=safe_cell(name))
            cell.font = bold
            cells.append(cell)
        self._ws.append(cells)

    def save(self, path: Path) -> bool:
        if self._wb is None:
            return False
        self._wb.save(path)
        return True


# ---- running an import ---------------------------------------------------------------------


@dataclass
class Checkpoint:
    """What committed batches did; written in the same transaction as each batch."""

    row: int = 0
    imported: int = 0
    updated: int = 0
    rejected: dict[str, list[list[str]]] = field(default_factory=dict)  # row -> [[field, reason]]

    @classmethod
    def of(cls, run: TaskRun | None) -> Checkpoint:
        data = (run.result or {}).get("checkpoint") if run is not None else None
        if not isinstance(data, dict):
            return cls()
        return cls(
            row=int(data.get("row", 0)),
            imported=int(data.get("imported", 0)),
            updated=int(data.get("updated", 0)),
            rejected={str(k): v for k, v in (data.get("rejected") or {}).items()},
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "imported": self.imported,
            "updated": self.updated,
            "rejected": self.rejected,
        }


@dataclass
class ImportResult:
    kind: str
    imported: int = 0
    updated: int = 0
    rejected: int = 0
    rows: int = 0
    file_error: str = ""
    error_report: str = ""  # file name in imports_dir()
    ignored_columns: list[str] = field(default_factory=list)
    reader: str = ""
    resumed_from_row: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "imported": self.imported,
            "updated": self.updated,
            "rejected": self.rejected,
            "rows": self.rows,
            "file_error": self.file_error,
            "error_report": self.error_report,
            "ignored_columns": self.ignored_columns,
            "reader": self.reader,
            "resumed_from_row": self.resumed_from_row,
        }


class _Runner:
    def __init__(
        self, spec: ImportSpec, user: User | None, run: TaskRun | None, report_path: Path
    ) -> None:
        self.spec = spec
        self.run = run
        self.report_path = report_path
        self.context = spec.make_context(user, run)
        self.checkpoint = Checkpoint.of(run)
        self.result = ImportResult(kind=spec.kind, resumed_from_row=self.checkpoint.row)
        self.batch: list[Row] = []
        self.seen: dict[str, dict[Hashable, int]] = {}
        self.report = ErrorReport(None)
        self.total = 0
        self.examples = {c.field: c.example for c in spec.columns if c.example}
        self.columns = {c.field: c for c in spec.columns}

    def execute(self, path: Path) -> ImportResult:
        try:
            sheet = open_sheet(path)
            self.result.reader = sheet.reader
            self.total = sheet.total
            header = find_header(sheet.rows, self.spec)
        except ImportFileError as exc:
            self.result.file_error = str(exc)
            return self.result
        self.report = ErrorReport(header)
        self.result.ignored_columns = list(header.ignored)
        self._progress(header.row_number, header)
        number = header.row_number
        for number, cells in enumerate(sheet.rows, start=header.row_number + 1):
            self._row(number, cells, header)
            if len(self.batch) >= self.spec.effective_batch_size():
                self._flush(header)
            elif number % PROGRESS_EVERY_ROWS == 0:
                self._progress(number, header)
        self._flush(header)
        self._progress(number, header)
        self.result.imported = self.checkpoint.imported
        self.result.updated = self.checkpoint.updated
        self.result.rejected = len(self.report.rows)
        if self.report.save(self.report_path):
            self.result.error_report = self.report_path.name
        return self.result

    def _row(self, number: int, cells: Sequence[Any], header: Header) -> None:
        if all(_is_empty(c) for c in cells):
            return
        raw = {f: cells[p] if p < len(cells) else None for f, p in header.positions.items()}
        if self._is_example(raw):
            return  # the template's example row, left as it was
        self.result.rows += 1
        values: dict[str, Any] = {}
        errors: RowErrors = []
        for fname, value in raw.items():
            col = self.columns[fname]
            try:
                values[fname] = normalise_cell(value, col)
            except CellError as exc:
                errors.append((fname, str(exc)))
                values[fname] = None if col.kind in (ColumnKind.DATE, ColumnKind.BOOL) else ""
        for col in self.spec.columns:
            values.setdefault(
                col.field, None if col.kind in (ColumnKind.DATE, ColumnKind.BOOL) else ""
            )
        parsed = self.spec.parse_row(values, self.context)
        if isinstance(parsed, list):
            bad = {f for f, _r in errors}
            errors += [(f, r) for f, r in parsed if f not in bad or not f]
        if not errors and isinstance(parsed, dict):
            errors = self._duplicates(number, parsed)
        if errors:
            self._reject(number, errors, cells)
            return
        assert isinstance(parsed, dict)
        self.batch.append(Row(number, parsed, cells))

    def _is_example(self, raw: dict[str, Any]) -> bool:
        compared = [f for f in self.examples if f in raw]
        if len(compared) < max(2, len(self.examples) // 2):
            return False
        return all(clean_text(display(raw[f])) == self.examples[f] for f in compared)

    def _duplicates(self, number: int, data: dict[str, Any]) -> RowErrors:
        checks: list[tuple[str, Hashable]] = [(self.spec.key_field, self.spec.natural_key(data))]
        checks += [(f, data.get(f)) for f in self.spec.unique_fields if data.get(f)]
        errors: RowErrors = []
        for fname, value in checks:
            first = self.seen.setdefault(fname, {}).get(value)
            if first is not None:
                errors.append(
                    (
                        fname,
                        _("与第 %(row)d 行重复（%(column)s相同），本行未导入")
                        % {"row": first, "column": self.spec.header_of(fname)},
                    )
                )
        if not errors:
            for fname, value in checks:
                self.seen[fname][value] = number
        return errors

    def _reject(self, number: int, errors: RowErrors, cells: Sequence[Any]) -> None:
        self.report.rows.add(number)
        for fname, reason in errors:
            self.report.add(number, self.spec.column(fname), reason, cells)

    def _flush(self, header: Header) -> None:
        if not self.batch:
            return
        rows, self.batch = self.batch, []
        # Rows an earlier attempt committed: their counts are in the checkpoint already.
        for row in rows:
            if row.number <= self.checkpoint.row:
                for fname, reason in self.checkpoint.rejected.get(str(row.number), []):
                    self._reject(row.number, [(fname, reason)], row.cells)
        batch = [row for row in rows if row.number > self.checkpoint.row]
        if not batch:
            return
        last = batch[-1].number
        with transaction.atomic():
            outcome = self.spec.upsert(batch, self.context)
            self.checkpoint.row = last
            self.checkpoint.imported += outcome.imported
            self.checkpoint.updated += outcome.updated
            for number, fname, reason in outcome.rejected:
                self.checkpoint.rejected.setdefault(str(number), []).append([fname, reason])
            if self.run is not None:
                from .models import TaskRun

                result = dict(self.run.result or {})
                result["checkpoint"] = self.checkpoint.as_dict()
                self.run.result = result
                TaskRun.objects.filter(pk=self.run.pk).update(result=result)
        cells_of = {row.number: row.cells for row in batch}
        for number, fname, reason in outcome.rejected:
            self._reject(number, [(fname, reason)], cells_of.get(number, ()))
        self._progress(last, header)

    def _progress(self, number: int, header: Header) -> None:
        if self.run is None:
            return
        from .tasks import report_progress

        total = max(self.total - header.row_number, 0)
        done = min(max(number - header.row_number, 0), total) if total else 0
        report_progress(
            self.run,
            done,
            total,
            _("已处理 %(done)d / %(total)d 行") % {"done": done, "total": total},
        )


def run_import(
    spec: ImportSpec,
    *,
    path: Path,
    user: User | None,
    run: TaskRun | None = None,
    report_path: Path | None = None,
) -> ImportResult:
    """Import one file; resumes from the run's checkpoint if an earlier attempt died."""
    report_path = report_path or imports_dir() / f"{run.pk if run else 'import'}-errors.xlsx"
    return _Runner(spec, user, run, report_path).execute(Path(path))


# ---- the template --------------------------------------------------------------------------


_HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")


def template_bytes(spec: ImportSpec) -> bytes:
    """The file to fill in: the header row, one example row in grey italic (ignored by the
    import while unchanged), drop-downs for choice columns, identifier columns formatted as
    text, and a second sheet 填写说明 explaining every column."""
    import io

    wb = Workbook()
    ws = wb.active
    ws.title = str(spec.title)[:31]
    required_font = Font(bold=True, color="B71C1C")
    bold = Font(bold=True)
    example_font = Font(italic=True, color="808080")
    for index, col in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        head = ws.cell(row=1, column=index, value=col.header)
        head.font = required_font if col.required else bold
        head.fill = _HEADER_FILL
        example = ws.cell(row=2, column=index, value=col.example or None)
        example.font = example_font
        ws.column_dimensions[letter].width = max(
            10, min(40, 2 * len(col.header) + 4, 4 + len(col.example) * 1.3)
        )
        if col.kind in (ColumnKind.CODE, ColumnKind.RESIDENT_ID):
            # Text format: Excel would otherwise turn an ID number into 2.10102E+17.
            ws.column_dimensions[letter].number_format = "@"
            example.number_format = "@"
            ws.column_dimensions[letter].width = 22
        labels = [label for _v, label in col.choices] if col.kind == ColumnKind.CHOICE else []
        if col.kind == ColumnKind.BOOL:
            labels = ["是", "否"]
        if labels:
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(labels) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=_("请从下拉列表中选择"),
                error=_("可选：%(choices)s") % {"choices": "、".join(labels)},
            )
            dv.add(f"{letter}2:{letter}1048576")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"

    notes = wb.create_sheet(INSTRUCTIONS_SHEET)
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 70
    notes.column_dimensions["D"].width = 28
    lines = [
        _("第一行是列名，请勿修改；第二行灰色斜体是示例，不修改时导入会忽略它，也可以直接删除。"),
        _("红色列名为必填列。身份证号、手机号等编号列已设为文本格式，请勿改为数字格式。"),
        _("同一文件可以重复导入：已有的记录会被更新，不会重复新增。"),
        *(str(i) for i in spec.instructions),
    ]
    for line in lines:
        notes.append([str(line)])
    notes.append([])
    notes.append([_("列名"), _("必填"), _("填写说明"), _("示例")])
    for cell in notes[notes.max_row]:
        cell.font = bold
    for col in spec.columns:
        help_text = str(col.help)
        if col.kind == ColumnKind.CHOICE:
            help_text = (help_text + " " if help_text else "") + _("可选：%(choices)s") % {
                "choices": "、".join(label for _v, label in col.choices)
            }
        notes.append(
            [
                col.header,
                _("是") if col.required else _("否"),
                safe_cell(help_text),
                safe_cell(col.example),
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
