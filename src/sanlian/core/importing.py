"""Excel in: read a spreadsheet row by row, validate every row, upsert the valid ones in
committed batches, and write every rejected row to an error report.

An app describes one kind of import with an `ImportSpec`: its columns (Chinese header,
aliases, kind of cell), a row parser (normally a Django form, so that the page, the import
and the API share their rules), a natural key and a bulk upsert. `run_import` does the rest:

- reading: xlsx, xls, xlsb and ods through python-calamine, which parses a 100,000-row
  sheet in about three seconds but holds the whole sheet: at most about twice the size of
  its XML (the sheet and the shared strings, uncompressed), which the zip's directory tells
  before anything is read. An xlsx whose XML is above `IMPORT_FAST_READER_MAX_XML_BYTES`
  (128 MB: under 500 MB for the reading process) is streamed instead (expat over the zip
  member, about five times slower, constant memory). Files above `IMPORT_MAX_BYTES` are
  refused.
- cells are normalised where the meaning is certain (Excel serial and text dates, integral
  floats, full-width digits, spaces) and reported where it is not (an ID number that Excel
  stored as a number has lost its last digits).
- batches of `batch_size` valid rows are written each in its own transaction, which also
  records the checkpoint (last row written, counts so far) on the TaskRun. A worker that dies
  loses at most the open batch; the re-run skips the committed batches and the natural-key
  upsert makes anything repeated harmless.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import enum
import functools
import logging
import os
import pickle
import posixpath
import queue
import re
import subprocess
import sys
import tempfile
import threading
import traceback
import zipfile
import zlib
from array import array
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, NamedTuple
from xml.parsers.expat import ExpatError, ParserCreate

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.forms.utils import ErrorDict
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from . import crypto
from .validators import FULLWIDTH_TO_ASCII
from .xlsx import safe_cell

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

    from .models import TaskRun, User
else:
    StrOrPromise = str

log = logging.getLogger(__name__)
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# calamine holds a sheet in up to ~1.9 bytes per byte of its XML (measured: short shared
# strings and small numbers, the densest kind of sheet), on top of ~170 MB of a process with
# Django loaded: 128 MB of XML stays under the import's 500 MB.
DEFAULT_FAST_READER_MAX_XML_BYTES = 128 * 1024 * 1024
DEFAULT_BATCH_SIZE = 2000
# A second reading process takes ~2.5 s to start (a Python with Django and the spec's
# lookups). Measured at medium scale, 100,000 people on record (import_xlsx, people): 10,000
# rows (8 MB of sheet XML) 11.7 s here vs 14.5 s aside; 30,000 rows (24 MB) 28.7 vs 21.9 s.
DEFAULT_READ_ASIDE_MIN_BYTES = 12 * 1024 * 1024
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
    # Derived values of a valid row that need no database (search keys...), computed where
    # the rows are validated: in the reading process when there is one (see `ref`).
    prepare_row: Callable[[dict[str, Any]], None] | None = None
    # "package.module:NAME" of the spec when it is a module-level object: on PostgreSQL its
    # rows are then read and validated by a second process while this one writes them.
    ref: str = ""

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
    fields, which cost more than the validation itself (about 1 ms a row). The form is
    cleaned as `full_clean` does, minus the bound fields a page needs to render it."""

    def parse(values: dict[str, Any], context: Any) -> dict[str, Any] | RowErrors:
        state = getattr(context, "__dict__", {})  # the run's context keeps its forms
        cleaners: dict[type[forms.Form], _RowCleaner] = state.setdefault("_row_forms", {})
        cleaner = cleaners.get(form_class)
        if cleaner is None:
            form = form_class(data=values, context=context)  # type: ignore[call-arg]
            cleaner = cleaners[form_class] = _RowCleaner(form)
        return cleaner.parse(values)

    return parse


# Django's own fields whose clean() depends on the value alone: a column's repeated values
# (a community, 男, 是, a date) are cleaned once. Errors are not remembered.
_PURE_FIELDS = frozenset(
    {
        forms.CharField,
        forms.ChoiceField,
        forms.DateField,
        forms.NullBooleanField,
        forms.BooleanField,
        forms.IntegerField,
    }
)
_KNOWN_VALUES = 4096  # per field and run


class _RowCleaner:
    """`Form.full_clean` for one row after another: the same fields, `clean_<name>` methods,
    `clean()` and errors, in the same order, without building a BoundField per field and
    row (a third of the time of a row). A form with a field that needs its bound field (a
    file, a disabled field) or its own cleaning loop is cleaned by Django as it is."""

    def __init__(self, form: forms.Form) -> None:
        self.form = form
        form_type = type(form)
        self.quick = (
            not form.files
            and not form.empty_permitted
            and form_type.full_clean is forms.BaseForm.full_clean
            and form_type._clean_fields is forms.BaseForm._clean_fields  # type: ignore[attr-defined]
            and all(
                not field.disabled
                and type(field)._clean_bound_field is forms.Field._clean_bound_field  # type: ignore[attr-defined]
                for field in form.fields.values()
            )
        )
        self.plan: list[tuple[Any, ...]] = [
            (
                name,
                field.clean,
                field.widget.value_from_datadict,
                form.add_prefix(name),
                getattr(form, f"clean_{name}", None),
                {} if type(field) in _PURE_FIELDS else None,
            )
            for name, field in form.fields.items()
        ]

    def parse(self, values: dict[str, Any]) -> dict[str, Any] | RowErrors:
        form = self.form
        form.data = values
        if not self.quick:
            form._errors = None  # type: ignore[attr-defined]  # full_clean() runs again
            return form.cleaned_data if form.is_valid() else form_errors(form)
        form._errors = ErrorDict(renderer=form.renderer)  # type: ignore[attr-defined]
        cleaned: dict[str, Any] = {}
        form.cleaned_data = cleaned
        files = form.files
        for name, clean, value_of, html_name, clean_method, known in self.plan:
            try:
                value = value_of(values, files, html_name)
                if known is None:
                    cleaned[name] = clean(value)
                else:
                    key = (value.__class__, value)
                    try:
                        cleaned[name] = known[key]
                    except KeyError:
                        cleaned[name] = known_value = clean(value)
                        if len(known) < _KNOWN_VALUES:
                            known[key] = known_value
                    except TypeError:  # a value that cannot be a key
                        cleaned[name] = clean(value)
                if clean_method is not None:
                    cleaned[name] = clean_method()
            except ValidationError as exc:
                form.add_error(name, exc)
        form._clean_form()  # type: ignore[attr-defined]
        form._post_clean()  # type: ignore[attr-defined]
        return form_errors(form) if form._errors else form.cleaned_data  # type: ignore[attr-defined]


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
        getattr(settings, "IMPORT_FAST_READER_MAX_XML_BYTES", DEFAULT_FAST_READER_MAX_XML_BYTES)
    )
    if fmt == "xlsx" and _xml_bytes(path) > fast_limit:
        return _open_streaming(path)
    return _open_calamine(path)


def _xml_bytes(path: Path) -> int:
    """The uncompressed size of an xlsx's worksheets and shared strings, from the zip's
    directory: what calamine's memory follows (the compressed size does not: the same rows
    take a third of the bytes as shared strings that they take as inline strings)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return sum(
                info.file_size
                for info in zf.infolist()
                if info.filename.startswith("xl/worksheets/")
                or info.filename.startswith("xl/sharedStrings")
            )
    except _BROKEN_XLSX:
        raise ImportFileError(_("文件已损坏，无法作为Excel表格打开。")) from None


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


def _open_streaming(path: Path) -> Sheet:
    """An xlsx read as it is parsed (expat over the zip member): memory does not depend on
    the number of rows. Values as openpyxl's read-only mode gives them (its number-format
    rules for dates); shared strings are kept as UTF-8 in one buffer, spilled to a temporary
    file when large."""
    try:
        reader = _XlsxStream(path)
    except _BROKEN_XLSX:
        raise ImportFileError(_("文件已损坏，无法作为Excel表格打开。")) from None
    return Sheet(rows=reader.rows(), total=reader.total, reader="streaming")


_MAIN_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # strict Open XML
)
_REL_NAMESPACES = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
# expat with namespace_separator "}" names an element "<namespace>}<local name>".
_ROW, _C, _V, _IS, _T, _RPH, _DIMENSION, _SHEET_DATA = range(8)
_SHEET_TAGS = {
    f"{ns}}}{local}": code
    for ns in _MAIN_NAMESPACES
    for local, code in (
        ("row", _ROW),
        ("c", _C),
        ("v", _V),
        ("is", _IS),
        ("t", _T),
        ("rPh", _RPH),
        ("dimension", _DIMENSION),
        ("sheetData", _SHEET_DATA),
    )
}
_CHUNK = 1 << 16
_BROKEN_XLSX = (
    zipfile.BadZipFile,
    ExpatError,
    KeyError,
    IndexError,
    ValueError,
    OSError,
    EOFError,
    zlib.error,
)
_DIGITS = "0123456789"


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number


def _parse_xml(
    stream: IO[bytes],
    start: Callable[..., None],
    end: Callable[[str], None] | None = None,
    text: Callable[[str], None] | None = None,
) -> None:
    parser = ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    while chunk := stream.read(_CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _local(name: str) -> str:
    return name.rpartition("}")[2]


class _SharedStrings:
    """The workbook's shared-strings table: UTF-8 in one buffer and the end offsets in an
    array (a fraction of a list of str), moved to a temporary file beyond SPILL_BYTES."""

    SPILL_BYTES = 8 * 1024 * 1024

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._file: Any = None
        self._ends = array("Q")
        self._size = 0
        self.get = functools.lru_cache(maxsize=4096)(self._read)

    def add(self, text: str) -> None:
        data = text.encode()
        if self._file is None:
            self._buffer += data
            if len(self._buffer) > self.SPILL_BYTES:
                self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
                self._file.write(self._buffer)
                self._buffer = bytearray()
        else:
            self._file.write(data)
        self._size += len(data)
        self._ends.append(self._size)

    def finish(self) -> None:
        if self._file is not None:
            self._file.flush()

    def _read(self, index: int) -> str:
        start = self._ends[index - 1] if index else 0
        end = self._ends[index]  # IndexError: a cell names a string that does not exist
        if self._file is None:
            return self._buffer[start:end].decode()
        return os.pread(self._file.fileno(), end - start, start).decode()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class _XlsxStream:
    def __init__(self, path: Path) -> None:
        from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH

        self.zf = zipfile.ZipFile(path)
        try:
            workbook = self._workbook_part()
            sheets, date1904 = self._sheets(workbook)
            rels = self._relationships(workbook)
            names = [name for name, state, _rid in sheets if state == "visible"] or [
                name for name, _state, _rid in sheets
            ]
            if not names:
                raise KeyError("no worksheet")
            wanted = names[_data_sheet_index(names)]
            rid = next(rid for name, _state, rid in sheets if name == wanted)
            self.sheet_part = rels[rid][0]
            self.epoch = MAC_EPOCH if date1904 else WINDOWS_EPOCH
            self.date_styles, self.timedelta_styles = self._date_styles(rels)
            self.strings = self._shared_strings(rels)
            self.total = self._dimension()
        except BaseException:
            self.zf.close()
            raise

    # -- the workbook's parts --

    def _workbook_part(self) -> str:
        try:
            for rel in self._rels_of("").values():
                if rel[1].endswith("/officeDocument"):
                    return rel[0]
        except KeyError:
            pass
        return "xl/workbook.xml"

    def _rels_of(self, part: str) -> dict[str, tuple[str, str]]:
        """Id -> (part name, relationship type) of a part's relationships."""
        folder, _sep, name = part.rpartition("/")
        rels_part = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
        out: dict[str, tuple[str, str]] = {}

        def start(tag: str, attrs: dict[str, str]) -> None:
            if _local(tag) == "Relationship" and attrs.get("TargetMode") != "External":
                target = attrs.get("Target", "")
                if target.startswith("/"):
                    resolved = target.lstrip("/")
                else:
                    resolved = posixpath.normpath(posixpath.join(folder, target))
                out[attrs.get("Id", "")] = (resolved, attrs.get("Type", ""))

        with self.zf.open(rels_part) as fh:
            _parse_xml(fh, start)
        return out

    def _relationships(self, workbook: str) -> dict[str, tuple[str, str]]:
        try:
            rels = self._rels_of(workbook)
        except KeyError:
            rels = {}
        self.workbook = workbook
        return rels

    def _sheets(self, workbook: str) -> tuple[list[tuple[str, str, str]], bool]:
        sheets: list[tuple[str, str, str]] = []
        date1904 = [False]

        def start(tag: str, attrs: dict[str, str]) -> None:
            local = _local(tag)
            if local == "sheet":
                rid = next((v for k, v in attrs.items() if k.endswith("}id")), "")
                sheets.append((attrs.get("name", ""), attrs.get("state", "visible"), rid))
            elif local == "workbookPr":
                date1904[0] = attrs.get("date1904", "").lower() in ("1", "true")

        with self.zf.open(workbook) as fh:
            _parse_xml(fh, start)
        return sheets, date1904[0]

    def _part_of_type(self, rels: dict[str, tuple[str, str]], kind: str) -> str | None:
        for part, rel_type in rels.values():
            if rel_type.endswith("/" + kind):
                return part
        return None

    def _date_styles(self, rels: dict[str, tuple[str, str]]) -> tuple[set[int], set[int]]:
        """The cell styles (xf indexes) whose number format is a date or a duration, by
        openpyxl's rules."""
        from openpyxl.styles.numbers import (
            builtin_format_code,
            is_date_format,
            is_timedelta_format,
        )

        part = self._part_of_type(rels, "styles")
        if part is None or part not in self.zf.NameToInfo:
            return set(), set()
        custom: dict[int, str] = {}
        xf_formats: list[int] = []
        in_cell_xfs = [False]

        def start(tag: str, attrs: dict[str, str]) -> None:
            local = _local(tag)
            if local == "numFmt":
                custom[int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
            elif local == "cellXfs":
                in_cell_xfs[0] = True
            elif local == "xf" and in_cell_xfs[0]:
                xf_formats.append(int(attrs.get("numFmtId", "0")))

        def end(tag: str) -> None:
            if _local(tag) == "cellXfs":
                in_cell_xfs[0] = False

        with self.zf.open(part) as fh:
            _parse_xml(fh, start, end)
        dates: set[int] = set()
        durations: set[int] = set()
        for index, fmt_id in enumerate(xf_formats):
            fmt = custom[fmt_id] if fmt_id in custom else builtin_format_code(fmt_id)
            if is_date_format(fmt):
                dates.add(index)
            if is_timedelta_format(fmt):
                durations.add(index)
        return dates, durations

    def _shared_strings(self, rels: dict[str, tuple[str, str]]) -> _SharedStrings:
        strings = _SharedStrings()
        part = self._part_of_type(rels, "sharedStrings")
        if part is None or part not in self.zf.NameToInfo:
            return strings
        # <si> holds <t>, or runs <r><t>…</t></r>; phonetic runs <rPh> are not the text.
        SI, T, RPH = "si", "t", "rPh"
        buf: list[str] = []
        state = {"si": False, "t": False, "rph": False}

        def start(tag: str, attrs: dict[str, str]) -> None:
            local = _local(tag)
            if local == SI:
                buf.clear()
                state["si"] = True
            elif local == T:
                state["t"] = state["si"] and not state["rph"]
            elif local == RPH:
                state["rph"] = True

        def end(tag: str) -> None:
            local = _local(tag)
            if local == SI:
                strings.add("".join(buf))
                state["si"] = False
            elif local == T:
                state["t"] = False
            elif local == RPH:
                state["rph"] = False

        def text(data: str) -> None:
            if state["t"]:
                buf.append(data)

        try:
            with self.zf.open(part) as fh:
                _parse_xml(fh, start, end, text)
        except BaseException:
            strings.close()
            raise
        strings.finish()
        return strings

    def _dimension(self) -> int:
        """Rows in the sheet as its <dimension> says (0 if it does not)."""
        found: list[str] = []

        class Done(Exception):
            pass

        def start(tag: str, attrs: dict[str, str]) -> None:
            code = _SHEET_TAGS.get(tag)
            if code == _DIMENSION:
                found.append(attrs.get("ref", ""))
                raise Done
            if code == _SHEET_DATA:
                raise Done

        try:
            with self.zf.open(self.sheet_part) as fh:
                _parse_xml(fh, start)
        except Done:
            pass
        last = found[0].rpartition(":")[2] if found else ""
        digits = last.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz$").replace(
            "$", ""
        )
        return int(digits) if digits.isdigit() else 0

    # -- the rows --

    def rows(self) -> Iterator[Sequence[Any]]:
        number = 0
        try:
            for number, row in enumerate(self._rows(), start=1):  # noqa: B007
                yield row
        except _BROKEN_XLSX:
            raise ImportFileError(
                _("文件在第 %(row)d 行之后已损坏，无法继续读取。") % {"row": number}
            ) from None
        finally:
            self.strings.close()
            self.zf.close()

    def _rows(self) -> Iterator[Sequence[Any]]:
        from openpyxl.utils.datetime import from_excel, from_ISO8601

        tags = _SHEET_TAGS
        strings = self.strings.get
        date_styles, timedelta_styles, epoch = self.date_styles, self.timedelta_styles, self.epoch
        columns: dict[str, int] = {}
        done: list[list[Any]] = []  # rows completed by the last chunk
        cells: list[Any] = []
        buf: list[str] = []
        row_number = 0
        column = 0
        kind = "n"
        style = ""
        collecting = False  # inside the <v> of a cell, or the <t> of an inline string
        inline = False
        in_is = False
        has_is = False
        in_rph = False

        def start(tag: str, attrs: dict[str, str]) -> None:
            nonlocal row_number, column, kind, style, collecting, inline, in_is, has_is, in_rph
            code = tags.get(tag)
            if code == _C:
                kind = attrs.get("t", "n")
                style = attrs.get("s", "")
                ref = attrs.get("r")
                if ref:
                    letters = ref.rstrip(_DIGITS)
                    col = columns.get(letters)
                    if col is None:
                        col = columns[letters] = _column_number(letters)
                    column = col
                else:
                    column += 1
                inline = kind == "inlineStr"
                has_is = False
                buf.clear()
            elif code == _V:
                collecting = not inline
            elif code == _T:
                collecting = in_is and not in_rph
            elif code == _ROW:
                ref = attrs.get("r")
                number = int(ref) if ref else row_number + 1
                while row_number + 1 < number:  # rows the file leaves out are empty rows
                    row_number += 1
                    done.append([])
                row_number = number
                column = 0
            elif code == _IS:
                in_is = True
                has_is = True
            elif code == _RPH:
                in_rph = True

        def end(tag: str) -> None:
            nonlocal cells, collecting, in_is, in_rph
            code = tags.get(tag)
            if code == _C:
                value: Any
                if inline:
                    value = "".join(buf) if has_is else None
                else:
                    text = "".join(buf) or None
                    value = text
                    if text is None:
                        pass
                    elif kind == "n":
                        value = (
                            float(text) if "." in text or "E" in text or "e" in text else int(text)
                        )
                        if style and int(style) in date_styles:
                            try:
                                value = from_excel(
                                    value, epoch, timedelta=int(style) in timedelta_styles
                                )
                            except (OverflowError, ValueError):
                                value = "#VALUE!"
                    elif kind == "s":
                        value = strings(int(text))
                    elif kind == "b":
                        value = bool(int(text))
                    elif kind == "d":
                        value = from_ISO8601(text)
                width = len(cells)
                if column == width + 1:
                    cells.append(value)
                elif column > width:
                    cells.extend([None] * (column - width - 1))
                    cells.append(value)
                elif column >= 1:
                    cells[column - 1] = value
            elif code in (_V, _T):
                collecting = False
            elif code == _ROW:
                done.append(cells)
                cells = []
            elif code == _IS:
                in_is = False
            elif code == _RPH:
                in_rph = False

        def text(data: str) -> None:
            if collecting:
                buf.append(data)

        parser = ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text
        with self.zf.open(self.sheet_part) as fh:
            while chunk := fh.read(_CHUNK):
                parser.Parse(chunk, False)
                yield from done
                done.clear()
            parser.Parse(b"", True)
            yield from done


# ---- normalising cells ---------------------------------------------------------------------


class CellError(Exception):
    """A cell whose meaning is not certain; the message says what to do, in Chinese."""


_FULLWIDTH_DIGITS = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)}
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_BLANKS = " \t\r\n\u3000\u00a0"


def _folding(fold: dict[int, int]) -> tuple[re.Pattern[str], dict[int, int | None]]:
    """The table clean_text translates with (invisible characters out, `fold` applied) and a
    search for any character it changes: str.translate with a dict maps every character in
    Python, 5-10 times the cost of the search, and almost no cell needs it."""
    table: dict[int, int | None] = {**_INVISIBLE, **fold}
    return re.compile("[" + re.escape("".join(map(chr, table))) + "]"), table


# Text keeps its full-width punctuation (，（）：); codes and choices are folded whole.
_CLEANING = {False: _folding(_FULLWIDTH_DIGITS), True: _folding(FULLWIDTH_TO_ASCII)}
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
    changed, table = _CLEANING[fold_ascii]
    if changed.search(value) is not None:
        value = value.translate(table)  # nothing it maps is a blank: strip after is the same
    return value.strip(_BLANKS)


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


def cell_normaliser(column: Column) -> Callable[[Any], Any]:
    """`normalise_cell` for one column, the common cells (text, a date) taken without going
    through every kind: an import calls it for each cell of each row."""
    kind = column.kind
    empty_value = None if kind in (ColumnKind.DATE, ColumnKind.BOOL) else ""
    empty_chars = _BLANKS + "\u200b\ufeff"

    def general(value: Any) -> Any:
        return normalise_cell(value, column)

    if kind == ColumnKind.TEXT:

        def text(value: Any) -> Any:
            if type(value) is str:
                return clean_text(value) if value.strip(empty_chars) else empty_value
            return normalise_cell(value, column)

        return text
    if kind in (ColumnKind.CODE, ColumnKind.RESIDENT_ID):

        def code(value: Any) -> Any:
            if type(value) is str:
                if not value.strip(empty_chars):
                    return empty_value
                cleaned = clean_text(value, fold_ascii=True)
                if not _SCIENTIFIC.match(cleaned):
                    return cleaned
            return normalise_cell(value, column)

        return code
    if kind == ColumnKind.CHOICE:
        # The first (stored value, label) that matches wins, as in normalise_cell.
        stored_of: dict[str, str] = {}
        for stored, label in reversed((*column.choices, *column.synonyms)):
            stored_of[label.lower()] = stored
            stored_of[stored.lower()] = stored

        def choice(value: Any) -> Any:
            if type(value) is str:
                if not value.strip(empty_chars):
                    return empty_value
                found = stored_of.get(clean_text(value).lower())
                if found is not None:
                    return found
            return normalise_cell(value, column)

        return choice
    if kind == ColumnKind.DATE:

        def date(value: Any) -> Any:
            if type(value) is dt.datetime:
                return value.date()
            if type(value) is dt.date:
                return value
            return normalise_cell(value, column)

        return date
    return general


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


class _RowChecker:
    """The reading side of an import: a row's cells normalised and parsed by the spec (in
    this process, or in the reading process of `_ChildRows`)."""

    def __init__(self, spec: ImportSpec, context: Any, header: Header) -> None:
        self.spec = spec
        self.context = context
        self.positions = list(header.positions.items())
        self.examples = {c.field: c.example for c in spec.columns if c.example}
        self.normalisers = {c.field: cell_normaliser(c) for c in spec.columns}
        self.empty = {
            c.field: None if c.kind in (ColumnKind.DATE, ColumnKind.BOOL) else ""
            for c in spec.columns
        }

    def check(self, cells: Sequence[Any]) -> tuple[dict[str, Any] | None, RowErrors] | None:
        """(the parsed row or None, its problems), or None for a row that is not data (empty,
        or the template's example row left as it was)."""
        if all(_is_empty(c) for c in cells):
            return None
        width = len(cells)
        raw = {f: cells[p] if p < width else None for f, p in self.positions}
        if self.examples and self._is_example(raw):
            return None
        values = dict(self.empty)
        errors: RowErrors = []
        normalisers = self.normalisers
        for fname, value in raw.items():
            try:
                values[fname] = normalisers[fname](value)
            except CellError as exc:
                errors.append((fname, str(exc)))
        parsed = self.spec.parse_row(values, self.context)
        if isinstance(parsed, list):
            bad = {f for f, _r in errors}
            return None, errors + [(f, r) for f, r in parsed if f not in bad or not f]
        if errors:
            return None, errors
        if self.spec.prepare_row is not None:
            self.spec.prepare_row(parsed)
        return parsed, errors

    def _is_example(self, raw: dict[str, Any]) -> bool:
        compared = [f for f in self.examples if f in raw]
        if len(compared) < max(2, len(self.examples) // 2):
            return False
        return all(clean_text(display(raw[f])) == self.examples[f] for f in compared)


# A checked row: its number, its cells as read, the parsed row (None if it has problems) and
# its problems.
Checked = tuple[int, Sequence[Any], dict[str, Any] | None, RowErrors]


class _LocalRows:
    """Rows read and checked in this process."""

    def __init__(self, spec: ImportSpec, context: Any, path: Path) -> None:
        self.spec, self.context, self.path = spec, context, path
        self.last = 0

    def open(self) -> tuple[Header, str, int]:
        sheet = open_sheet(self.path)
        header = find_header(sheet.rows, self.spec)
        self.sheet, self.checker = sheet, _RowChecker(self.spec, self.context, header)
        self.last = header.row_number
        return header, sheet.reader, sheet.total

    def rows(self) -> Iterator[Checked]:
        check = self.checker.check
        for number, cells in enumerate(self.sheet.rows, start=self.last + 1):
            self.last = number
            checked = check(cells)
            if checked is not None:
                yield number, cells, *checked

    def close(self) -> None:
        pass


class _Runner:
    def __init__(
        self, spec: ImportSpec, user: User | None, run: TaskRun | None, report_path: Path
    ) -> None:
        self.spec = spec
        self.user = user
        self.run = run
        self.report_path = report_path
        self.context = spec.make_context(user, run)
        self.checkpoint = Checkpoint.of(run)
        # What an earlier attempt committed (the checkpoint itself moves on as batches commit).
        self.resumed_row = self.checkpoint.row
        self.resumed_rejected = dict(self.checkpoint.rejected)
        self.result = ImportResult(kind=spec.kind, resumed_from_row=self.checkpoint.row)
        self.batch: list[Row] = []
        self.batch_size = spec.effective_batch_size()
        self.seen: dict[str, dict[Hashable, int]] = {}
        self.report = ErrorReport(None)
        self.total = 0
        self.writer: _BatchWriter | None = None
        self.in_flight: tuple[list[Row], Future[BatchOutcome]] | None = None
        # Problems found while a batch is being written: reported after that batch's own,
        # so that the error report lists them in the order a one-thread run finds them.
        self.held: list[tuple[int, RowErrors, Sequence[Any]]] = []

    def execute(self, path: Path) -> ImportResult:
        aside = _writes_aside()
        source: _LocalRows | _ChildRows = (
            _ChildRows(self.spec, self.user, self.run, path)
            if aside and self.spec.ref and _reading_aside_pays(path)
            else _LocalRows(self.spec, self.context, path)
        )
        try:
            try:
                header, self.result.reader, self.total = source.open()
            except ImportFileError as exc:
                self.result.file_error = str(exc)
                return self.result
            self.report = ErrorReport(header)
            self.result.ignored_columns = list(header.ignored)
            self._progress(header.row_number, header)
            reported = header.row_number
            self.writer = _BatchWriter() if aside else None
            try:
                try:
                    for number, cells, parsed, errors in source.rows():
                        self._take(number, cells, parsed, errors)
                        if len(self.batch) >= self.batch_size:
                            self._flush(header)
                            reported = number
                        elif number - reported >= PROGRESS_EVERY_ROWS:
                            self._progress(number, header)
                            reported = number
                except ImportFileError as exc:
                    # Broken after some rows (a streamed file): the good rows read so far are
                    # kept, and the message says where it broke; a re-run of the mended file
                    # updates them and adds the rest.
                    self.result.file_error = str(exc)
                self._flush(header)
                self._wait(header)
            finally:
                if self.writer is not None:
                    self.writer.close()  # after the batch in flight, if any, is written
        finally:
            source.close()
        self._progress(source.last, header)
        self.result.imported = self.checkpoint.imported
        self.result.updated = self.checkpoint.updated
        self.result.rejected = len(self.report.rows)
        if self.report.save(self.report_path):
            self.result.error_report = self.report_path.name
        return self.result

    def _take(
        self,
        number: int,
        cells: Sequence[Any],
        parsed: dict[str, Any] | None,
        errors: RowErrors,
    ) -> None:
        self.result.rows += 1
        if parsed is not None and not errors:
            errors = self._duplicates(number, parsed)
        if errors or parsed is None:
            self._reject(number, errors, cells)
            return
        self.batch.append(Row(number, parsed, cells))

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
        if self.in_flight is not None:
            self.held.append((number, errors, cells))
            if len(self.held) >= self.batch_size:
                self._wait(None)  # bounded: a file of bad rows waits for the writer
            return
        for fname, reason in errors:
            self.report.add(number, self.spec.column(fname), reason, cells)

    def _flush(self, header: Header) -> None:
        if not self.batch:
            return
        rows, self.batch = self.batch, []
        # Rows an earlier attempt committed: their counts are in the checkpoint already.
        for row in rows:
            if row.number <= self.resumed_row:
                for fname, reason in self.resumed_rejected.get(str(row.number), []):
                    self._reject(row.number, [(fname, reason)], row.cells)
        batch = [row for row in rows if row.number > self.resumed_row]
        if not batch:
            return
        self._wait(header)  # batches are written one after another, in order
        if self.writer is None:
            self._report(batch, self._write(batch), header)
        else:
            self.in_flight = (batch, self.writer.submit(self._write, batch))

    def _write(self, batch: list[Row]) -> BatchOutcome:
        """Upsert one batch and record the checkpoint, in one transaction."""
        with transaction.atomic():
            outcome = self.spec.upsert(batch, self.context)
            self.checkpoint.row = batch[-1].number
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
        _forget_queries()
        return outcome

    def _wait(self, header: Header | None) -> None:
        """Report the batch in flight once it is written, then what was held meanwhile."""
        if self.in_flight is None:
            return
        batch, written = self.in_flight
        outcome = written.result()  # the writer's exception, if any, is raised here
        self.in_flight = None
        self._report(batch, outcome, header)
        held, self.held = self.held, []
        for number, errors, cells in held:
            self._reject(number, errors, cells)

    def _report(self, batch: list[Row], outcome: BatchOutcome, header: Header | None) -> None:
        cells_of = {row.number: row.cells for row in batch}
        for number, fname, reason in outcome.rejected:
            self._reject(number, [(fname, reason)], cells_of.get(number, ()))
        if header is not None:
            self._progress(batch[-1].number, header)

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


def _reading_aside_pays(path: Path) -> bool:
    """Whether the file is large enough for a second reading process to pay for its start."""
    limit = int(getattr(settings, "IMPORT_READ_ASIDE_MIN_BYTES", DEFAULT_READ_ASIDE_MIN_BYTES))
    try:
        return _reading_size(path) >= limit
    except (ImportFileError, OSError):
        return False  # the reader in this process says what is wrong with the file


def _reading_size(path: Path) -> int:
    """What reading a file costs in proportion to: the size of its sheet XML for an xlsx (the
    zip's directory tells), or of the file."""
    size = path.stat().st_size
    if zipfile.is_zipfile(path):
        size = max(size, _xml_bytes(path))
    return size


def _writes_aside() -> bool:
    """Whether this run writes its batches on a thread of its own (and, for a spec with a
    `ref`, reads its rows in a second process): on PostgreSQL, outside a transaction (another
    connection would not see the caller's uncommitted rows). SQLite has one writer."""
    conn = transaction.get_connection()
    return conn.vendor == "postgresql" and not conn.in_atomic_block


class _BatchWriter:
    """Writes the batches of a run on a thread of its own (and its own database connection):
    the database writes batch N while this thread reads batch N+1. Batches are still written
    one at a time and in order, each in its own transaction with its checkpoint."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")

    def submit(
        self, fn: Callable[[list[Row]], BatchOutcome], batch: list[Row]
    ) -> Future[BatchOutcome]:
        # The caller's context (audit actor, language) goes along with the batch.
        return self.pool.submit(contextvars.copy_context().run, fn, batch)

    def close(self) -> None:
        try:
            self.pool.submit(connections.close_all).result()  # the writer's own connection
        finally:
            self.pool.shutdown(wait=True)


def _forget_queries() -> None:
    """With DEBUG on, Django keeps the text of every query (a batch's INSERTs are megabytes):
    drop them after each batch, unless a test captures queries on purpose."""
    conn = transaction.get_connection()
    if settings.DEBUG and not conn.force_debug_cursor:
        conn.queries_log.clear()


# ---- reading in a second process -----------------------------------------------------------

# Rows go from the reading process in messages of this many; each message is one pickle.
_MESSAGE_ROWS = 500
# Messages received ahead of the rows being taken: the reading process goes on while this one
# waits for a batch to be written, and memory stays bounded (8 × 500 rows).
_MESSAGES_AHEAD = 8
# Settings the reading process takes from this one (a test or a caller may have changed them).
_CHILD_SETTINGS = (
    "DATA_DIR",
    "IMPORT_MAX_BYTES",
    "IMPORT_FAST_READER_MAX_XML_BYTES",
    "IMPORT_READ_ASIDE_MIN_BYTES",
    "USE_TZ",
    "TIME_ZONE",
)
# Once everything is sent, the process ends without the interpreter's teardown (~0.9 s of
# freeing the sheet and Django's modules, which the importing process would wait for).
_CHILD_MAIN = (
    "from sanlian.core.importing import _child_exit, _child_main; _child_main(); _child_exit()"
)


class _ModelRef(NamedTuple):
    """A model instance of a parsed row, as it travels between the processes: the rows refer
    to what the database holds (communities, unions), which the other process loads itself."""

    label: str
    pk: Any


def _sendable(item: Checked) -> Checked:
    number, cells, parsed, errors = item
    if parsed is not None:
        parsed = {
            k: _ModelRef(v._meta.label, v.pk)
            if isinstance(v, models.Model) and v.pk is not None
            else v
            for k, v in parsed.items()
        }
    return number, cells, parsed, errors


class _Instances:
    """The model instances rows refer to, loaded once each (a bounded number is kept)."""

    KEPT = 4096

    def __init__(self) -> None:
        self.loaded: dict[_ModelRef, models.Model] = {}

    def received(self, items: list[Checked]) -> Iterator[Checked]:
        """The rows of one message, their references replaced by instances (those not yet
        loaded are fetched together, one query per model)."""
        refs = {
            v
            for _n, _c, parsed, _e in items
            if parsed is not None
            for v in parsed.values()
            if type(v) is _ModelRef
        }
        self._load([r for r in refs if r not in self.loaded])
        for number, cells, parsed, errors in items:
            if parsed is not None:
                for k, v in parsed.items():
                    if type(v) is _ModelRef:
                        parsed[k] = self.loaded[v]
            yield number, cells, parsed, errors

    def _load(self, refs: list[_ModelRef]) -> None:
        if not refs:
            return
        from django.apps import apps

        if len(self.loaded) + len(refs) > self.KEPT:
            self.loaded.clear()
        by_label: dict[str, list[Any]] = {}
        for ref in refs:
            by_label.setdefault(ref.label, []).append(ref.pk)
        for label, pks in by_label.items():
            found = apps.get_model(label)._base_manager.in_bulk(pks)
            for pk in pks:
                # A row naming something deleted meanwhile fails as a lookup would.
                self.loaded[_ModelRef(label, pk)] = found[pk]


def _spec_named(ref: str) -> ImportSpec:
    import importlib

    module, _sep, name = ref.partition(":")
    spec = getattr(importlib.import_module(module), name)
    assert isinstance(spec, ImportSpec), ref
    return spec


class _ChildRows:
    """Rows read and checked by a second process (`_child_main`), which has a core of its
    own: reading, normalising and validating a row costs about as much as writing it."""

    def __init__(self, spec: ImportSpec, user: User | None, run: TaskRun | None, path: Path):
        from django.utils import timezone, translation

        conn = transaction.get_connection()
        job = {
            "spec": spec.ref,
            "path": str(path),
            "user": user.pk if user is not None else None,
            "run": str(run.pk) if run is not None else None,
            # (None under override_settings: the environment names the module then)
            "settings_module": settings.SETTINGS_MODULE
            or os.environ.get("DJANGO_SETTINGS_MODULE", "sanlian.config.settings"),
            "database": dict(conn.settings_dict),
            "settings": {
                **{n: getattr(settings, n) for n in _CHILD_SETTINGS if hasattr(settings, n)},
                # The key this process hashes and encrypts with, whatever the reading process
                # would find in DATA_DIR: both must agree on every ID number.
                "FIELD_ENCRYPTION_KEY": crypto.master_key_text(),
            },
            "language": translation.get_language(),
            "timezone": timezone.get_current_timezone_name(),
        }
        read_fd, write_fd = os.pipe()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        try:
            self.proc = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
                [sys.executable, "-c", _CHILD_MAIN, str(write_fd)],
                stdin=subprocess.PIPE,
                pass_fds=(write_fd,),
                env=env,
            )
        finally:
            os.close(write_fd)
        self.stream = os.fdopen(read_fd, "rb", buffering=1 << 16)
        self.instances = _Instances()
        self.finished = False
        self.last = 0
        self.messages: queue.Queue[tuple[Any, ...]] = queue.Queue(maxsize=_MESSAGES_AHEAD)
        self.stopping = threading.Event()
        self.drain = threading.Thread(target=self._drain, name="import-receiver", daemon=True)
        assert self.proc.stdin is not None
        try:
            pickle.dump(job, self.proc.stdin)
            self.proc.stdin.close()
        except BaseException:
            self.close()
            raise
        self.drain.start()

    def _drain(self) -> None:
        """Receive the reading process's messages as they come (the pipe holds only 64 KB:
        without this, the reader would stop whenever this process waits for the writer)."""
        while True:
            try:
                message = pickle.load(self.stream)  # noqa: S301 - from the process we started
            except (EOFError, OSError, ValueError, pickle.UnpicklingError):
                message = ("ended",)
            while not self.stopping.is_set():
                try:
                    self.messages.put(message, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if self.stopping.is_set() or message[0] in ("end", "file_error", "crash", "ended"):
                return

    def _receive(self) -> tuple[Any, ...]:
        message = self.messages.get()
        if message[0] == "ended":
            code = self.proc.wait()
            log.error("the import's reading process ended early (exit code %s)", code)
            raise RuntimeError(_("读取文件的进程意外退出，请重试：已导入的行不会重复导入。"))
        if message[0] == "crash":
            log.error("the import's reading process failed:\n%s", message[1])
            raise RuntimeError(_("读取文件时出错，请重试；如仍出错请联系系统管理员。"))
        return message

    def open(self) -> tuple[Header, str, int]:
        message = self._receive()
        if message[0] == "file_error":
            self.finished = True
            raise ImportFileError(message[1])
        _kind, header, reader, total = message
        self.last = header.row_number
        return header, reader, total

    def rows(self) -> Iterator[Checked]:
        while True:
            message = self._receive()
            if message[0] == "rows":
                yield from self.instances.received(message[1])
            elif message[0] == "end":
                self.last = message[1]
                self.finished = True
                return
            else:  # "file_error": the file is broken after some row
                self.finished = True
                raise ImportFileError(message[1])

    def close(self) -> None:
        try:
            if self.finished:
                self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        finally:
            self.stopping.set()
            if self.proc.poll() is None:
                self.proc.kill()  # this run failed: its reading process is not needed
                self.proc.wait()
            if self.drain.is_alive():
                self.drain.join()  # the pipe is at its end now that the process is gone
            self.stream.close()


def _child_exit() -> None:
    from django.db import connections

    connections.close_all()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _child_main() -> None:
    """The reading process of `_ChildRows`: reads the job from stdin, sends the header and
    the checked rows (pickled messages) on the file descriptor named by its argument."""
    job = pickle.load(sys.stdin.buffer)  # noqa: S301 - written by the process that started us
    out = os.fdopen(int(sys.argv[1]), "wb", buffering=1 << 16)

    def send(*message: Any) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        os.environ["DJANGO_SETTINGS_MODULE"] = job["settings_module"]
        settings.DATABASES[DEFAULT_DB_ALIAS] = job["database"]
        for name, value in job["settings"].items():
            setattr(settings, name, value)
        import django

        django.setup()
        from django.utils import timezone, translation

        from .models import TaskRun, User

        translation.activate(job["language"] or settings.LANGUAGE_CODE)
        timezone.activate(job["timezone"])
        spec = _spec_named(job["spec"])
        user = User.objects.get(pk=job["user"]) if job["user"] is not None else None
        run = TaskRun.objects.get(pk=job["run"]) if job["run"] is not None else None
        source = _LocalRows(spec, spec.make_context(user, run), Path(job["path"]))
        try:
            header, reader, total = source.open()
        except ImportFileError as exc:
            send("file_error", str(exc))
            return
        send("header", header, reader, total)
        chunk: list[Checked] = []
        try:
            for checked in source.rows():
                chunk.append(_sendable(checked))
                if len(chunk) >= _MESSAGE_ROWS:
                    send("rows", chunk)
                    chunk = []
        except ImportFileError as exc:
            send("rows", chunk)
            send("file_error", str(exc))
            return
        send("rows", chunk)
        send("end", source.last)
    except BrokenPipeError:
        return  # the importing process has gone
    except BaseException:
        with contextlib.suppress(OSError):
            send("crash", traceback.format_exc())
        raise SystemExit(1) from None
    finally:
        with contextlib.suppress(OSError):
            out.close()


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
