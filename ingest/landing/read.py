"""Reading a delivered file as text rows: gzip or plain CSV in the contract's encoding, or an XLSX
sheet. Every problem is a :class:`Rejected` with a reason a person can act on.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import re
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from ingest.landing.contracts import Contract
from ingest.landing.outcome import Rejected

GZIP_MAGIC = b"\x1f\x8b"


KOREAN_LEGACY = "cp949"  # Korean Windows code page, a superset of EUC-KR


def _open_text_bytes(path: Path, contract: Contract):
    return gzip.open(path, "rb") if contract.compression == "gzip" else open(path, "rb")


def _not_decodable(path: Path, contract: Contract, line: int | None, detail: str) -> Rejected:
    """A file that is not in the contract's encoding: say where, and whether it is Korean text in
    the legacy Windows encoding (the usual cause), so the sender knows what to change."""
    hint = ""
    try:
        with _open_text_bytes(path, contract) as fh:
            data = fh.read(256 << 20)
        text = data.decode(KOREAN_LEGACY)
        if any("\uac00" <= ch <= "\ud7a3" for ch in text):
            hint = (
                " It reads as Korean text in CP949/EUC-KR (the Korean Windows encoding): export it "
                f"again as {contract.encoding.upper()}, or, if this source always sends CP949, set "
                f"`encoding: cp949` in expectations/contracts/{contract.source_kind}.yml."
            )
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, LookupError):
        pass
    at = f" at line {line}" if line else ""
    return Rejected(
        "encoding",
        f"{path.name}: not valid {contract.encoding} text{at} ({detail}); nothing "
        f"was loaded, so no text was mangled.{hint or f' Export the file again as {contract.encoding}.'}",
    )


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


def _header_problem(header: list[str], contract: Contract, file_name: str) -> None:
    expected = contract.column_names
    if header == expected:
        return
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    parts = []
    if missing:
        parts.append(f"missing column(s) {missing}")
    if extra:
        parts.append(f"unknown column(s) {extra}")
    if not parts:
        parts.append("columns in another order")
    if len(header) == 1 and contract.file_format != "xlsx":
        used = next((d for d in (";", "\t", "|", ",") if d != contract.delimiter and d in header[0]), None)
        if used:
            parts.append(f"the header looks delimited by {used!r}, the contract says {contract.delimiter!r}")
    where = (
        f"sheet {contract.sheet!r} row {contract.header_row}"
        if contract.file_format == "xlsx"
        else f"delimiter {contract.delimiter!r}"
    )
    raise Rejected(
        "header_mismatch",
        f"{file_name}: header does not match the {contract.source_kind} contract: "
        f"{'; '.join(parts)}. Expected exactly {expected} ({where}). "
        f"Fix the export or change {contract.path.relative_to(contract.path.parents[2])}.",
    )


def check_header(path: Path, contract: Contract) -> None:
    if contract.file_format == "xlsx":
        _xlsx_rows(path, contract, header_only=True)
        return
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if contract.compression == "gzip" and magic != GZIP_MAGIC:
        raise Rejected(
            "not_gzip",
            f"{path.name}: not a gzip file although the {contract.source_kind} contract "
            "requires gzip; compress it with gzip (keeping the .csv.gz name) and drop it again.",
        )
    if contract.compression == "none" and magic == GZIP_MAGIC:
        raise Rejected(
            "not_plain_text",
            f"{path.name}: gzip-compressed although the {contract.source_kind} "
            "contract expects plain CSV; decompress it (keeping the .csv name) and drop it again.",
        )
    opener = gzip.open if contract.compression == "gzip" else open
    try:
        with opener(path, "rb") as fh:
            first = fh.readline(1 << 20)
    except (OSError, EOFError, zlib.error) as exc:
        raise _damaged_stream(path, exc) from exc
    if not first.strip():
        raise Rejected(
            "empty_file",
            f"{path.name}: the file is empty (no header, no rows); ask the sender whether the export ran.",
            rows_landed=0,
        )
    try:
        header_line = first.decode(contract.encoding)
    except UnicodeDecodeError as exc:
        raise _not_decodable(path, contract, 1, str(exc)) from exc
    header = [
        h.strip() for h in next(csv.reader([header_line.lstrip("\ufeff").rstrip("\r\n")], delimiter=contract.delimiter))
    ]
    _header_problem(header, contract, path.name)


def _damaged_stream(path: Path, exc: Exception) -> Rejected:
    return Rejected(
        "unreadable",
        f"{path.name}: the gzip stream is damaged or cut short ({exc}); ask the "
        "sender to export the whole file and send it again.",
    )


def _check_gzip_stream(path: Path) -> Rejected | None:
    """Reads a gzip file to its end (end-of-stream marker and CRC): DuckDB reads a cut stream up
    to the cut without a word. zlib releases the GIL, so this runs beside DuckDB's read."""
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 22):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        return _damaged_stream(path, exc)
    return None


def cell_text(value) -> str | None:
    """A spreadsheet cell as the text a CSV export would hold (types are checked afterwards)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    text = str(value).strip()
    return text or None


def _xlsx_rows(path: Path, contract: Contract, header_only: bool = False) -> list[tuple[int, list[str | None]]]:
    """(spreadsheet row number, cells as text) of the contract sheet's rows below its header."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise Rejected(
            "not_xlsx",
            f"{path.name}: cannot be opened as an Excel workbook (.xlsx) ({exc}); "
            "save it again as .xlsx (not .xls or CSV renamed) and drop it again.",
        ) from exc
    try:
        sheet_name = contract.sheet or book.sheetnames[0]
        if sheet_name not in book.sheetnames:
            raise Rejected(
                "wrong_sheet",
                f"{path.name}: no worksheet named {sheet_name!r} (found "
                f"{book.sheetnames}); the {contract.source_kind} contract reads that sheet, so "
                "rename the sheet or export the workbook from the usual template.",
            )
        rows = book[sheet_name].iter_rows(min_row=contract.header_row, values_only=True)
        header_cells = next(rows, None)
        if header_cells is None or all(c is None for c in header_cells):
            raise Rejected(
                "empty_file",
                f"{path.name}: sheet {sheet_name!r} is empty (no header in row "
                f"{contract.header_row}); ask the sender whether the export ran.",
                rows_landed=0,
            )
        header = [cell_text(c) or "" for c in header_cells]
        while header and header[-1] == "":
            header.pop()
        _header_problem(header, contract, path.name)
        if header_only:
            return []
        width = len(header)
        out = []
        for line, cells in enumerate(rows, contract.header_row + 1):
            values = [cell_text(c) for c in cells[:width]]
            if all(v is None for v in values):
                continue  # blank spacer rows are layout, not data
            out.append((line, values + [None] * (width - len(values))))
        return out
    finally:
        book.close()


def read_text_rows(con: duckdb.DuckDBPyConnection, path: Path, contract: Contract) -> duckdb.DuckDBPyRelation:
    """All rows of the file as text (types are checked afterwards, to report line numbers). A
    gzip file's whole stream is checked in a thread beside the read; a damaged stream is the
    reason given, whatever the read made of it."""
    if contract.file_format != "xlsx" and contract.compression == "gzip":
        with ThreadPoolExecutor(1, thread_name_prefix="swpm-gzip") as pool:
            stream = pool.submit(_check_gzip_stream, path)
            try:
                delivered = _read_text_rows(con, path, contract)
            except Rejected:
                damaged = stream.result()
                if damaged is not None:
                    raise damaged from None
                raise
            damaged = stream.result()
        if damaged is not None:
            raise damaged
        return delivered
    return _read_text_rows(con, path, contract)


def _read_text_rows(con: duckdb.DuckDBPyConnection, path: Path, contract: Contract) -> duckdb.DuckDBPyRelation:
    if contract.file_format == "xlsx":
        import pyarrow as pa

        rows = _xlsx_rows(path, contract)
        names = contract.column_names
        columns = {n: pa.array([r[i] for _, r in rows], pa.string()) for i, n in enumerate(names)}
        columns["_source_line"] = pa.array([line for line, _ in rows], pa.int64())
        con.register("incoming_sheet", pa.table(columns))
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE delivered AS SELECT * FROM incoming_sheet")
        finally:
            con.unregister("incoming_sheet")
        return con.table("delivered")
    if not _is_utf8(contract.encoding):
        # DuckDB reads UTF-8 only (its encodings extension cannot be installed offline):
        # decode strictly in Python into a temporary UTF-8 copy.
        with tempfile.TemporaryDirectory(prefix="swpm-decode-") as tmp:
            utf8 = Path(tmp) / "delivered.csv"
            try:
                with _open_text_bytes(path, contract) as src, open(utf8, "w", encoding="utf-8") as dst:
                    for number, raw in enumerate(src, 1):
                        try:
                            dst.write(raw.decode(contract.encoding))
                        except UnicodeDecodeError as exc:
                            raise Rejected(
                                "encoding",
                                f"{path.name}: not valid {contract.encoding} text at line "
                                f"{number} ({exc}); nothing was loaded. Export the file again as "
                                f"{contract.encoding} (the contract's encoding).",
                            ) from exc
            except (OSError, EOFError, zlib.error) as exc:
                raise Rejected(
                    "unreadable",
                    f"{path.name}: cannot be read ({exc}); ask the sender to export and send the file again.",
                ) from exc
            return _read_csv(con, utf8, path, contract, compression="none")
    return _read_csv(con, path, path, contract, compression=contract.compression)


def _read_csv(con, source: Path, path: Path, contract: Contract, compression: str) -> duckdb.DuckDBPyRelation:
    params = {
        "path": str(source),
        "columns": {c: "VARCHAR" for c in contract.column_names},
        "delim": contract.delimiter,
        "compression": compression,
        # One null marker goes as a plain string: DuckDB 1.5 reads ten times slower when
        # nullstr is a one-element list (docs/performance.md).
        "nullstr": contract.null_strings[0] if len(contract.null_strings) == 1 else list(contract.null_strings),
    }
    try:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE delivered AS
            SELECT *, (row_number() OVER () + 1)::BIGINT AS _source_line
            FROM read_csv($path, columns = $columns, header = true, auto_detect = false,
                          delim = $delim, quote = '"', escape = '"', compression = $compression,
                          nullstr = $nullstr, strict_mode = true, null_padding = false,
                          max_line_size = 16777216)
            """,
            params,
        )
    except duckdb.Error as exc:
        full = str(exc)
        text = full.split("\n")[0][:400]
        line = re.search(r"Line: (\d+)", full)
        if "unicode" in full.lower():
            raise _not_decodable(path, contract, int(line.group(1)) if line else None, "invalid byte sequence") from exc
        at = f" at line {line.group(1)}" if line else ""
        raise Rejected(
            "unreadable",
            f"{path.name}: cannot be read as {contract.encoding} CSV{at} ({text}). "
            "Check that the export is complete and well-formed (same number of fields on every "
            "line, closed quotes), then send it again.",
        ) from exc
    return con.table("delivered")
