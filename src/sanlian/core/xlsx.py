"""Excel out: write-only workbooks with formula injection neutralised."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value: Any) -> Any:
    """A text cell starting with = + - @ would run as a formula in Excel/WPS: prefix a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
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
        cell = WriteOnlyCell(ws, value=str(h))
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(
    filename: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "Sheet1"
) -> HttpResponse:
    from urllib.parse import quote

    response = HttpResponse(
        workbook_bytes(headers, rows, title=title), content_type=XLSX_CONTENT_TYPE
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
