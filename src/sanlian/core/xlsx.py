"""Excel out: write-only workbooks with formula injection neutralised, and list exports."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from .scoping import scope_for
from .validators import mask_mobile

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import User

# OWASP "CSV Injection": = + - @ and tab / carriage return (and line feed) start a formula or
# a DDE payload once the cell is edited, re-saved as CSV or opened by another spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
# Some spreadsheets skip leading blanks before looking for a formula, and WPS folds the
# full-width signs an IME produces: a cell that is a formula after those is escaped too.
_LEADING_BLANKS = " \u3000\u00a0\t\r\n\u200b\ufeff"
_LOOSE_PREFIXES = (*FORMULA_PREFIXES, "＝", "＋", "－", "＠")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES) or text.lstrip(_LEADING_BLANKS).startswith(
        _LOOSE_PREFIXES
    )


def safe_cell(value: Any) -> Any:
    """A text cell that a spreadsheet could run as a formula gets a leading quote, so it is
    shown and kept as text; aware datetimes become local wall-clock time (Excel has no zones)."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def workbook_bytes(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "Sheet1"
) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=safe_cell(str(h)))
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def attachment(
    content: bytes, filename: str, content_type: str = XLSX_CONTENT_TYPE
) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def xlsx_response(
    filename: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "Sheet1"
) -> HttpResponse:
    return attachment(workbook_bytes(headers, rows, title=title), filename)


# ---- list exports ------------------------------------------------------------------------


@dataclass(frozen=True)
class Disclosure:
    """What an export may show of personal identifiers.

    ID numbers always leave masked (the full number is shown only one person at a time,
    audited, on the person's page). Full mobile numbers go to area staff, who call residents;
    everyone else (a social organisation, a social worker, an evaluator) gets them masked."""

    full_phone: bool

    def phone(self, number: str) -> str:
        if not number or self.full_phone:
            return number
        return mask_mobile(number)


def disclosure_for(user: User | AnonymousUser | None) -> Disclosure:
    return Disclosure(full_phone=scope_for(user).area_path is not None)


def wants_xlsx(request: HttpRequest) -> bool:
    return request.GET.get("format") == "xlsx"


def export_response(
    request: HttpRequest,
    *,
    filename: str,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    object_type: str,
) -> HttpResponse:
    """A list page's export: the rows the page's filters select (the caller passes the scoped,
    filtered queryset's rows), formula-escaped, and one audit entry naming the filters used
    and how many rows left."""
    from . import audit
    from .models import AuditAction

    count = 0

    def counted() -> Iterator[Sequence[Any]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    content = workbook_bytes(headers, counted(), title=title)
    filters = {
        key: request.GET.getlist(key) if len(request.GET.getlist(key)) > 1 else request.GET[key]
        for key in request.GET
        if key not in ("format", "page")
    }
    audit.record(
        AuditAction.EXPORT,
        object_type=object_type,
        object_repr=filename,
        changes={"filters": filters, "rows": count},
    )
    return attachment(content, filename)
