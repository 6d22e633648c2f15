"""`python -m bench.parse calamine|openpyxl|streaming FILE`: read every row of the first sheet, as the
import's readers do, and print `rows seconds` (run in a child so its peak memory is its own)."""

from __future__ import annotations

import sys
import time


def parse_calamine(path: str) -> int:
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(path).get_sheet_by_index(0)
    return sum(1 for _row in sheet.iter_rows())


def parse_openpyxl(path: str) -> int:
    from openpyxl import load_workbook

    with open(path, "rb") as fh:
        wb = load_workbook(fh, read_only=True, data_only=True)
        n = sum(1 for _row in wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
    return n


def parse_streaming(path: str) -> int:
    """The import's own reader of large files (expat over the zip member)."""
    from pathlib import Path

    import django

    django.setup()
    from sanlian.core.importing import _open_streaming

    return sum(1 for _row in _open_streaming(Path(path)).rows)


READERS = {"calamine": parse_calamine, "openpyxl": parse_openpyxl, "streaming": parse_streaming}


def main(argv: list[str]) -> int:
    reader, path = argv
    started = time.perf_counter()
    rows = READERS[reader](path)
    print(rows, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
