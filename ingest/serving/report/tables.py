"""A chart's data table: the values (as the mart gives them) and how the page shows them, and its
CSV and XLSX downloads, written beside the page (no script: plain links)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.files import replacing, write_atomic

from . import svg

Format = Callable[[object], str]


def num(digits: int = 2) -> Format:
    return lambda v: "–" if svg.missing(v) else f"{float(v):.{digits}f}"


def count(v) -> str:
    return "–" if v is None else f"{int(v):,}"


def pct(digits: int = 1) -> Format:
    """A share 0-1 shown in percent."""
    return lambda v: "–" if svg.missing(v) else f"{float(v) * 100:.{digits}f}"


def text(v) -> str:
    return "–" if v is None else str(v)


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]  # display strings, as on the page
    values: list[list] | None = None  # the same cells as values, for the downloads (None: the strings)

    @classmethod
    def of(cls, columns: Sequence[str], values: Sequence[Sequence], formats: Sequence[Format]) -> Table:
        """A table of ``values`` (rows of cells), each column shown by its format."""
        if len(formats) != len(columns):
            raise ValueError(f"{len(columns)} columns but {len(formats)} formats")
        rows = [[fmt(v) for fmt, v in zip(formats, row)] for row in values]
        return cls(list(columns), rows, [list(row) for row in values])

    def cells(self) -> list[list]:
        return self.values if self.values is not None else self.rows


def _plain(value):
    """A cell for a download: numbers stay numbers, dates become ISO text, NULL an empty cell."""
    if svg.missing(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def csv_bytes(table: Table) -> bytes:
    # UTF-8 with a byte-order mark, so that spreadsheet programs read Korean headers right.
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows([["" if (c := _plain(v)) is None else c for v in row] for row in table.cells()])
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(table: Table, sheet: str, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]  # Excel's limit
    ws.append(table.columns)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in table.cells():
        ws.append([_plain(v) for v in row])
    ws.freeze_panes = "A2"
    with replacing(path) as tmp:
        book.save(tmp)


def write_downloads(table: Table, folder: Path, name: str) -> dict[str, str]:
    """``<name>.csv`` and ``<name>.xlsx`` in ``folder``, each written beside and renamed into place;
    returns {format: file name}."""
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / f"{name}.csv", csv_bytes(table))
    write_xlsx(table, name, folder / f"{name}.xlsx")
    return {"CSV": f"{name}.csv", "XLSX": f"{name}.xlsx"}
