"""Landing -> raw: find new files, check them at the door, load good ones, quarantine bad ones.

Rules (the same for every source kind, driven by its contract):
- A file no contract claims, or whose name would escape ``landing/``, is quarantined.
- A file is checked whole before any row loads. Any contract breach (unreadable or truncated
  compression, wrong header, wrong type, unknown code, out-of-range value, duplicate key, empty
  file) quarantines the whole file: a nightly export is one delivery, and loading part of it
  would leave a day silently incomplete. The reason names the file, the column, example values
  and line numbers, and what to do.
- Loading is one transaction (rows and manifest entry together): a crash leaves either all of
  the file or none of it, and the next run picks it up again.
- The same content under the same name is a no-op; under another name it is quarantined as a
  duplicate delivery. A corrected file under the same name (other content) loads as a new
  version; staging keeps the latest version of each key.
- Every loaded row carries its lineage: source file, sha256, line, batch id, load time.
"""
from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from ingest import crashpoints, pseudonymise
from ingest.config import Home
from ingest.contracts import Contract, contract_for
from ingest.quality import build_suite, validate_frame
from ingest.warehouse import connect

GZIP_MAGIC = b"\x1f\x8b"
EXAMPLE_CHARS = 60  # example values in messages are cut to this length (a line may be megabytes)
KOREAN_LEGACY = "cp949"  # Korean Windows code page, a superset of EUC-KR


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= EXAMPLE_CHARS else f"{text[:EXAMPLE_CHARS]}...({len(text)} chars)"


def _open_text_bytes(path: Path, contract: Contract):
    return gzip.open(path, "rb") if contract.compression == "gzip" else open(path, "rb")


def _not_decodable(path: Path, contract: Contract, line: int | None, detail: str) -> "Rejected":
    """A file that is not in the contract's encoding: say where, and whether it is Korean text in
    the legacy Windows encoding (the usual cause), so the sender knows what to change."""
    hint = ""
    try:
        with _open_text_bytes(path, contract) as fh:
            data = fh.read(256 << 20)
        text = data.decode(KOREAN_LEGACY)
        if any("\uac00" <= ch <= "\ud7a3" for ch in text):
            hint = (" It reads as Korean text in CP949/EUC-KR (the Korean Windows encoding): export it "
                    f"again as {contract.encoding.upper()}, or, if this source always sends CP949, set "
                    f"`encoding: cp949` in expectations/contracts/{contract.source_kind}.yml.")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, LookupError):
        pass
    at = f" at line {line}" if line else ""
    return Rejected("encoding", f"{path.name}: not valid {contract.encoding} text{at} ({detail}); nothing "
                    f"was loaded, so no text was mangled.{hint or f' Export the file again as {contract.encoding}.'}")


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


class Rejected(Exception):
    """A file breaks its contract: ``code`` for machines, ``message`` for people."""

    def __init__(self, code: str, message: str, rows_landed: int | None = None, details: list | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.rows_landed = rows_landed
        self.details = details or []


@dataclass
class FileOutcome:
    file_name: str
    status: str  # loaded | quarantined | skipped
    source_kind: str | None = None
    sha256: str | None = None
    rows_landed: int | None = None
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reason_code: str | None = None
    message: str | None = None
    quarantine_path: str | None = None
    details: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def discover(home: Home, until: dt.date | None = None) -> list[Path]:
    """Files in ``landing/`` not yet recorded in the manifest (by name and content), oldest
    data date first. With ``until``, files whose name carries a later data date wait for the
    run of that date. A file already recorded under its name and size, and not modified since,
    is not hashed again: a night's cost follows the new files, not the history in landing/."""
    home.ensure()
    candidates = sorted(p for p in home.landing.iterdir() if p.is_file() and not p.name.startswith("."))
    known: set[tuple[str, str]] = set()
    recorded: dict[tuple[str, int], dt.datetime] = {}
    if home.warehouse.exists():
        with connect(home, read_only=True) as con:
            try:
                rows = con.execute("SELECT file_name, sha256, size_bytes, recorded_at FROM meta.file_manifest").fetchall()
            except duckdb.CatalogException:
                rows = []
        known = {(name, sha) for name, sha, _, _ in rows}
        for name, _, size, at in rows:
            recorded[(name, size)] = max(at, recorded.get((name, size), at))
    new = []
    for path in candidates:
        contract = contract_for(path.name)
        data_date = contract.data_date(path.name) if contract else None
        if until and data_date and dt.date.fromisoformat(data_date) > until:
            continue
        stat = path.stat()
        seen_at = recorded.get((path.name, stat.st_size))
        # ctime too: a copy that keeps an old mtime still gets a new ctime when it lands.
        modified = dt.datetime.fromtimestamp(max(stat.st_mtime, stat.st_ctime), dt.timezone.utc).replace(tzinfo=None)
        if seen_at is not None and modified < seen_at:
            continue
        if (path.name, sha256_of(path)) in known:
            continue
        new.append((data_date or "", path.name, path))
    return [p for _, _, p in sorted(new)]


def _safe_landing_path(home: Home, path: Path) -> Path:
    """The file's real path, which must be a plain file directly inside landing/."""
    landing = home.landing.resolve()
    resolved = (landing / path.name if not path.is_absolute() else path).resolve()
    if resolved.parent != landing or not resolved.is_file():
        raise Rejected(
            "unsafe_path",
            f"{path}: not a plain file inside {landing}; files must be dropped directly into "
            "landing/ (no links, no sub-folders, no '..').",
        )
    return resolved


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
    where = f"sheet {contract.sheet!r} row {contract.header_row}" if contract.file_format == "xlsx" \
        else f"delimiter {contract.delimiter!r}"
    raise Rejected(
        "header_mismatch",
        f"{file_name}: header does not match the {contract.source_kind} contract: "
        f"{'; '.join(parts)}. Expected exactly {expected} ({where}). "
        f"Fix the export or change {contract.path.relative_to(contract.path.parents[2])}.",
    )


def _check_header(path: Path, contract: Contract) -> None:
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
        raise Rejected("not_plain_text", f"{path.name}: gzip-compressed although the {contract.source_kind} "
                       "contract expects plain CSV; decompress it (keeping the .csv name) and drop it again.")
    opener = gzip.open if contract.compression == "gzip" else open
    try:
        with opener(path, "rb") as fh:
            first = fh.readline(1 << 20)
            if contract.compression == "gzip":
                # DuckDB reads a cut gzip stream up to the cut without a word: read to the end
                # here, so a truncated file fails (end-of-stream marker and CRC are checked).
                while fh.read(1 << 22):
                    pass
    except (OSError, EOFError, zlib.error) as exc:
        raise Rejected("unreadable", f"{path.name}: the gzip stream is damaged or cut short ({exc}); ask the "
                       "sender to export the whole file and send it again.") from exc
    if not first.strip():
        raise Rejected("empty_file", f"{path.name}: the file is empty (no header, no rows); ask "
                       "the sender whether the export ran.", rows_landed=0)
    try:
        header_line = first.decode(contract.encoding)
    except UnicodeDecodeError as exc:
        raise _not_decodable(path, contract, 1, str(exc)) from exc
    header = [h.strip() for h in next(csv.reader([header_line.lstrip("\ufeff").rstrip("\r\n")], delimiter=contract.delimiter))]
    _header_problem(header, contract, path.name)


def _cell_text(value) -> str | None:
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
        raise Rejected("not_xlsx", f"{path.name}: cannot be opened as an Excel workbook (.xlsx) ({exc}); "
                       "save it again as .xlsx (not .xls or CSV renamed) and drop it again.") from exc
    try:
        sheet_name = contract.sheet or book.sheetnames[0]
        if sheet_name not in book.sheetnames:
            raise Rejected("wrong_sheet", f"{path.name}: no worksheet named {sheet_name!r} (found "
                           f"{book.sheetnames}); the {contract.source_kind} contract reads that sheet, so "
                           "rename the sheet or export the workbook from the usual template.")
        rows = book[sheet_name].iter_rows(min_row=contract.header_row, values_only=True)
        header_cells = next(rows, None)
        if header_cells is None or all(c is None for c in header_cells):
            raise Rejected("empty_file", f"{path.name}: sheet {sheet_name!r} is empty (no header in row "
                           f"{contract.header_row}); ask the sender whether the export ran.", rows_landed=0)
        header = [_cell_text(c) or "" for c in header_cells]
        while header and header[-1] == "":
            header.pop()
        _header_problem(header, contract, path.name)
        if header_only:
            return []
        width = len(header)
        out = []
        for line, cells in enumerate(rows, contract.header_row + 1):
            values = [_cell_text(c) for c in cells[:width]]
            if all(v is None for v in values):
                continue  # blank spacer rows are layout, not data
            out.append((line, values + [None] * (width - len(values))))
        return out
    finally:
        book.close()


def _read_text_rows(con: duckdb.DuckDBPyConnection, path: Path, contract: Contract) -> duckdb.DuckDBPyRelation:
    """All rows of the file as text (types are checked afterwards, to report line numbers)."""
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
                            raise Rejected("encoding", f"{path.name}: not valid {contract.encoding} text at line "
                                           f"{number} ({exc}); nothing was loaded. Export the file again as "
                                           f"{contract.encoding} (the contract's encoding).") from exc
            except (OSError, EOFError, zlib.error) as exc:
                raise Rejected("unreadable", f"{path.name}: cannot be read ({exc}); ask the sender to "
                               "export and send the file again.") from exc
            return _read_csv(con, utf8, path, contract, compression="none")
    return _read_csv(con, path, path, contract, compression=contract.compression)


def _read_csv(con, source: Path, path: Path, contract: Contract, compression: str) -> duckdb.DuckDBPyRelation:
    params = {
        "path": str(source),
        "columns": {c: "VARCHAR" for c in contract.column_names},
        "delim": contract.delimiter,
        "compression": compression,
        # One null marker goes as a plain string: DuckDB 1.5 reads ten times slower when
        # nullstr is a one-element list (README "Performance").
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
            raise _not_decodable(path, contract, int(line.group(1)) if line else None,
                                 "invalid byte sequence") from exc
        at = f" at line {line.group(1)}" if line else ""
        raise Rejected("unreadable", f"{path.name}: cannot be read as {contract.encoding} CSV{at} ({text}). "
                       "Check that the export is complete and well-formed (same number of fields on every "
                       "line, closed quotes), then send it again.") from exc
    return con.table("delivered")


def _typed(col, ident: str) -> str:
    """SQL that turns a text column into the contract's type, NULL where it does not parse."""
    if col.format:
        return f"TRY_CAST(TRY_STRPTIME({ident}, '{col.format.replace(chr(39), chr(39) * 2)}') AS {col.type})"
    return f"TRY_CAST({ident} AS {col.type})"


def _describe(failures, contract: Contract, file_name: str) -> str:
    lines = []
    for f in failures:
        where = f"column '{f.column}'" if f.column else "the file"
        what = {
            "expect_column_values_to_not_be_null": "is empty where a value is required",
            "expect_column_values_to_be_in_set": "holds codes the contract does not allow",
            "expect_column_values_to_match_regex": "holds values in the wrong format",
            "expect_column_values_to_be_unique": "repeats a key that must be unique",
            "expect_compound_columns_to_be_unique": "repeats a key that must be unique",
        }.get(f.expectation, f"fails {f.expectation}")
        count = f" ({f.unexpected_count} rows)" if f.unexpected_count is not None else ""
        eg = f", e.g. {[_short(v) for v in f.examples[:3]]}" if f.examples else ""
        at = f" at line(s) {f.lines[:3]}" if f.lines else ""
        lines.append(f"{where} {what}{count}{eg}{at}{'; ' + f.detail if f.detail and not eg else ''}")
    return (f"{file_name}: breaks the {contract.source_kind} contract: " + "; ".join(lines)
            + f". Correct the export (contract: expectations/contracts/{contract.source_kind}.yml) "
            "and drop the corrected file into landing/.")


def _check_types(con: duckdb.DuckDBPyConnection, contract: Contract, file_name: str) -> None:
    """Typed columns must cast and sit within their range; report the first bad lines."""
    problems = []
    for col in contract.columns:
        if col.type.upper() == "VARCHAR":
            continue
        ident = '"' + col.name.replace('"', '""') + '"'
        bad = con.execute(
            f"SELECT count(*), list(_source_line ORDER BY _source_line)[1:3], list({ident} ORDER BY _source_line)[1:3] "
            f"FROM delivered WHERE {ident} IS NOT NULL AND {_typed(col, ident)} IS NULL"
        ).fetchone()
        if bad[0]:
            fmt = f" in the format {col.format!r}" if col.format else ""
            problems.append(f"column '{col.name}' is not {col.type}{fmt} in {bad[0]} rows, "
                            f"e.g. {[_short(v) for v in bad[2]]} at line(s) {bad[1]}")
            continue
        upper = col.max
        if upper is None and col.is_temporal and not col.allow_future:
            upper = "now"  # a log cannot hold the future (a day's slack for time zones and clocks)
        for bound, op in ((col.min, "<"), (upper, ">")):
            if bound is None:
                continue
            limit = _future_limit(col) if bound == "now" else str(bound)
            n, lines_, vals = con.execute(
                f"SELECT count(*), list(_source_line ORDER BY _source_line)[1:3], list({ident} ORDER BY _source_line)[1:3] "
                f"FROM delivered WHERE {_typed(col, ident)} {op} CAST($bound AS {col.type})",
                {"bound": limit},
            ).fetchone()
            if n:
                if bound == "now":
                    word = f"in the future (after {limit})"
                elif col.is_temporal and op == "<":
                    word = f"before {bound}, the earliest date the contract allows (before the system existed)"
                else:
                    word = f"{'below the minimum' if op == '<' else 'above the maximum'} {bound}"
                problems.append(f"column '{col.name}' is {word} in {n} rows, "
                                f"e.g. {[_short(v) for v in vals]} at line(s) {lines_}")
    code = "out_of_contract"
    if not problems:
        problems, code = _order_problems(con, contract), "contradictory_milestones"
    if problems:
        raise Rejected(code, f"{file_name}: " + "; ".join(problems)
                       + f". Correct the export (contract: expectations/contracts/{contract.source_kind}.yml) "
                       "and drop the corrected file into landing/.")


def _future_limit(col) -> str:
    limit = _now() + dt.timedelta(days=1)
    return limit.date().isoformat() if col.type.upper() == "DATE" else limit.isoformat(sep=" ", timespec="seconds")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _order_problems(con, contract: Contract) -> list[str]:
    """Milestones that contradict each other: the contract's order rules, checked on typed values."""
    problems = []
    by_name = {c.name: c for c in contract.columns}
    for a, b in contract.column_order:
        ta, tb = _typed(by_name[a], _quote(a)), _typed(by_name[b], _quote(b))
        n, lines_ = con.execute(
            f"SELECT count(*), list(_source_line ORDER BY _source_line)[1:3] FROM delivered WHERE {tb} < {ta}"
        ).fetchone()
        if n:
            problems.append(f"column '{b}' is before column '{a}' in {n} rows at line(s) {lines_} "
                            "(milestones that contradict each other)")
    rule = contract.milestone_order
    if rule:
        key, kind, time = _quote(rule.key), _quote(rule.kind), _quote(rule.time)
        typed_time = _typed(by_name[rule.time], time)
        for a, b in rule.pairs:
            n, keys, lines_ = con.execute(
                f"""
                WITH firsts AS (
                    SELECT {key} AS k, min({typed_time}) FILTER (WHERE {kind} = $a) AS ta,
                           min({typed_time}) FILTER (WHERE {kind} = $b) AS tb,
                           min(_source_line) FILTER (WHERE {kind} = $b) AS line
                    FROM delivered WHERE {kind} IN ($a, $b) GROUP BY {key})
                SELECT count(*), list(k ORDER BY line)[1:3], list(line ORDER BY line)[1:3] FROM firsts WHERE tb < ta
                """,
                {"a": a, "b": b},
            ).fetchone()
            if n:
                problems.append(f"{n} {rule.key}(s) have {b} before {a} (milestones that contradict each other), "
                                f"e.g. {[_short(k) for k in keys]} at line(s) {lines_}")
    return problems


def _set_aside_exact_duplicates(con, home: Home, contract: Contract, name: str, sha: str) -> int:
    """With a unique key, a row repeated byte for byte is a re-sent line: keep the first copy,
    set the others aside (listed in quarantine/<file>.rows.reason.json) and load the file."""
    if not contract.unique_key:
        return 0
    # A repeated row repeats its key: when the keys are all distinct (the usual case) there is
    # nothing to look for, and counting them is far cheaper than comparing whole rows.
    key = ", ".join(_quote(c) for c in contract.unique_key)
    distinct, total = con.execute(f"SELECT count(DISTINCT ({key})), count(*) FROM delivered").fetchone()
    if distinct == total:
        return 0
    cols = ", ".join(_quote(c) for c in contract.column_names)
    lines_ = [r[0] for r in con.execute(
        f"SELECT _source_line FROM (SELECT _source_line, row_number() OVER (PARTITION BY {cols} "
        f"ORDER BY _source_line) AS copy FROM delivered) WHERE copy > 1 ORDER BY 1").fetchall()]
    if not lines_:
        return 0
    con.execute("DELETE FROM delivered WHERE _source_line IN (SELECT unnest($lines))", {"lines": lines_})
    home.quarantine.mkdir(parents=True, exist_ok=True)
    reason = {"file_name": name, "sha256": sha, "reason_code": "duplicate_rows", "lines": lines_,
              "message": f"{name}: {len(lines_)} row(s) repeat an earlier row exactly (line(s) {lines_[:5]}); "
                         "the first copy was loaded, the repeats were set aside. Nothing to do unless the "
                         "export is expected to hold repeated lines.",
              "quarantined_at": _now().isoformat()}
    tmp = home.quarantine / f".{name}.rows.reason.json.part"
    tmp.write_text(json.dumps(reason, indent=2), encoding="utf-8")
    os.replace(tmp, home.quarantine / f"{name}.rows.reason.json")
    return len(lines_)


def _quarantine(home: Home, path: Path, sha: str, rejection: Rejected) -> Path:
    """Copy the file into quarantine/ with its reason beside it (the landing copy is removed
    only after the manifest records the outcome)."""
    home.quarantine.mkdir(parents=True, exist_ok=True)
    target = home.quarantine / path.name
    if target.exists() and sha256_of(target) != sha:
        target = home.quarantine / f"{sha[:12]}_{path.name}"
    shutil.copy2(path, target)
    reason = {
        "file_name": path.name,
        "sha256": sha,
        "reason_code": rejection.code,
        "message": rejection.message,
        "details": rejection.details,
        "quarantined_at": _now().isoformat(),
    }
    tmp = target.with_name(f".{target.name}.reason.json.part")
    tmp.write_text(json.dumps(reason, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, target.with_name(target.name + ".reason.json"))
    return target


def _record(con, outcome: FileOutcome, size: int, data_date: str | None, batch_id: str) -> None:
    con.execute(
        """
        INSERT INTO meta.file_manifest VALUES
        ($file_name, $source_kind, $sha256, $size, $data_date, $batch_id, $status, $rows_landed,
         $rows_loaded, $rows_quarantined, $reason_code, $message, $quarantine_path, $now)
        ON CONFLICT DO NOTHING
        """,
        {
            "file_name": outcome.file_name, "source_kind": outcome.source_kind, "sha256": outcome.sha256,
            "size": size, "data_date": data_date, "batch_id": batch_id, "status": outcome.status,
            "rows_landed": outcome.rows_landed, "rows_loaded": outcome.rows_loaded,
            "rows_quarantined": outcome.rows_quarantined, "reason_code": outcome.reason_code,
            "message": outcome.message, "quarantine_path": outcome.quarantine_path, "now": _now(),
        },
    )


def load_file(home: Home, path: Path | str, batch_id: str) -> FileOutcome:
    """Check one landed file and load it, or set it aside; always leaves a manifest entry."""
    home.ensure()
    path = Path(path)
    name = path.name
    try:
        path = _safe_landing_path(home, path)
    except Rejected as rej:
        # Nothing is moved: the path is outside our folder. The manifest still says why.
        outcome = FileOutcome(name, "quarantined", reason_code=rej.code, message=rej.message,
                              sha256=sha256_of(path) if path.is_file() else "-")
        with connect(home) as con:
            _record(con, outcome, path.stat().st_size if path.is_file() else 0, None, batch_id)
        return outcome

    sha = sha256_of(path)
    size = path.stat().st_size
    contract = contract_for(name)
    outcome = FileOutcome(name, "loaded", source_kind=contract.source_kind if contract else None, sha256=sha)
    data_date = contract.data_date(name) if contract else None
    # A missing key is a configuration error, not a bad file: fail loudly, record nothing, and
    # leave the file in landing/ for the next run.
    secret = pseudonymise.key() if contract and any(c.pseudonymise for c in contract.columns) else None

    with connect(home) as con:
        seen = con.execute(
            "SELECT file_name, status FROM meta.file_manifest WHERE sha256 = $sha AND status = 'loaded'",
            {"sha": sha},
        ).fetchall()
        if con.execute("SELECT 1 FROM meta.file_manifest WHERE file_name = $n AND sha256 = $s",
                       {"n": name, "s": sha}).fetchone():
            _finish_quarantine_move(home, con, name, sha, path)
            return FileOutcome(name, "skipped", outcome.source_kind, sha, message="already recorded")
        in_transaction = False
        try:
            if contract is None:
                raise Rejected("unknown_source", f"{name}: no landing contract claims this file name; "
                               "rename it to a documented pattern (README, 'Landing contracts') or add a contract.")
            if seen:
                raise Rejected("duplicate_content", f"{name}: same content (sha256 {sha[:12]}...) as "
                               f"{seen[0][0]}, which is already loaded; nothing to do unless a different "
                               "file was meant to be sent.")
            _check_header(path, contract)
            _read_text_rows(con, path, contract)
            outcome.rows_landed = con.execute("SELECT count(*) FROM delivered").fetchone()[0]
            if outcome.rows_landed == 0:
                raise Rejected("header_only", f"{name}: header but no rows; if the day really had no "
                               "activity nothing is lost, otherwise ask the sender to export again.", 0)
            repeats = _set_aside_exact_duplicates(con, home, contract, name, sha)
            # GX checks the frame in a worker thread (pandas work, holding the GIL) while DuckDB,
            # which releases it, checks the types and writes the rows; the transaction commits
            # only after both passed, so a failing check never leaves rows behind.
            with ThreadPoolExecutor(max_workers=1) as pool:
                door = pool.submit(_door_check, _delivered_arrow(con, contract), contract, name)
                try:
                    _check_types(con, contract, name)
                    con.execute("BEGIN")
                    in_transaction = True
                    _insert_rows(con, contract, name, sha, batch_id, secret)
                finally:
                    # GX's verdict comes first, as when it ran before the type checks: its
                    # Rejected takes the place of one the type checks raised.
                    door.result()
        except Rejected as rej:
            if in_transaction:
                con.execute("ROLLBACK")
            outcome.status = "quarantined"
            outcome.reason_code, outcome.message, outcome.details = rej.code, rej.message, rej.details
            if rej.rows_landed is not None:
                outcome.rows_landed = rej.rows_landed
            outcome.rows_quarantined = outcome.rows_landed or 0
            (home.quarantine / f"{name}.rows.reason.json").unlink(missing_ok=True)
            outcome.quarantine_path = str(_quarantine(home, path, sha, rej))
            con.execute("BEGIN")
            _record(con, outcome, size, data_date, batch_id)
            con.execute("COMMIT")
            path.unlink(missing_ok=True)
            return outcome

        outcome.rows_loaded = outcome.rows_landed - repeats
        outcome.rows_quarantined = repeats
        if repeats:
            outcome.reason_code = "duplicate_rows"
            outcome.message = f"{repeats} exact repeat(s) of earlier rows set aside (quarantine/{name}.rows.reason.json)"
        _record(con, outcome, size, data_date, batch_id)
        crashpoints.reached("load:before_commit")
        con.execute("COMMIT")
        con.execute("DROP TABLE IF EXISTS delivered")
    return outcome


def _delivered_arrow(con, contract: Contract):
    """The delivered rows (contract columns and line numbers) as an Arrow table: DuckDB hands
    them over in C, and the table stays valid whatever the connection does next."""
    return con.table("delivered").project(
        ", ".join([_quote(c) for c in contract.column_names] + ["_source_line"])).to_arrow_table()


def _door_frame(table, contract: Contract) -> pd.DataFrame:
    """The delivered rows as the pandas frame GX checks. GX's pandas metrics copy and
    fingerprint the whole frame, once per expectation: cheap on Arrow strings and on
    categoricals (the code columns), dear with a Python string per cell. Columns with a pattern
    stay Python strings all the same: GX matches them through ``astype(str)``, which turns
    Arrow strings or categories into fixed-width NumPy text of rows times the longest value (a
    line of megabytes would need terabytes)."""
    columns = {}
    for c in contract.columns:
        values = table[c.name]
        if c.regex:
            columns[c.name] = values.to_pandas(deduplicate_objects=False)
        elif c.allowed:
            columns[c.name] = values.dictionary_encode().to_pandas()
        else:
            columns[c.name] = values.to_pandas(types_mapper=pd.ArrowDtype)
    frame = pd.DataFrame(columns)
    # GX reports row labels, which failures_of turns into lines (label + 2: header, 1-based).
    # Labelled by line, not by position: exact repeats set aside leave gaps, and a sheet's
    # header may sit below row 1.
    frame.index = pd.Index(table["_source_line"].to_numpy() - 2)
    return frame


def _plain(value):
    """A missing value as None, however the frame's column type spells it (NA, NaN)."""
    if isinstance(value, dict):  # a row of a compound key
        return {k: _plain(v) for k, v in value.items()}
    return None if pd.api.types.is_scalar(value) and pd.isna(value) else value


def _door_check(table, contract: Contract, name: str) -> None:
    """The contract's GX suite over the delivered rows; raises Rejected when any expectation fails."""
    failures = validate_frame(_door_frame(table, contract), _suite(contract))
    # Values of pseudonymised columns never go into messages: the manifest lives in the
    # warehouse, which must not hold them in clear (the line numbers still point at them).
    secret_cols = {c.name for c in contract.columns if c.pseudonymise}
    for f in failures:
        if f.column in secret_cols and f.examples:
            f.examples = ["<withheld: pseudonymised column>"]
        f.examples = [_plain(v) for v in f.examples]
    if failures:
        raise Rejected("out_of_contract", _describe(failures, contract, name),
                       details=[dict(f.__dict__, examples=[_short(v) for v in f.examples]) for f in failures])


def _insert_rows(con, contract: Contract, name: str, sha: str, batch_id: str, secret) -> None:
    """The delivered rows into the raw table, typed (or pseudonymised), with their lineage."""
    params = {"file": name, "sha": sha, "batch": batch_id, "now": _now()}
    casts = []
    for c in contract.columns:
        ident = _quote(c.name)
        casts.append(pseudonymise.sql_expression(ident) if c.pseudonymise else _typed(c, ident))
    if any(c.pseudonymise for c in contract.columns):
        params.update(pseudonymise.sql_params(secret))
    con.execute(
        f"INSERT INTO {contract.raw_table} SELECT {', '.join(casts)}, $file, $sha, _source_line, $batch, $now FROM delivered",
        params,
    )


def _finish_quarantine_move(home: Home, con, name: str, sha: str, path: Path) -> None:
    """A crash between recording a quarantine and removing the landed copy leaves the file in
    landing/; finish the move."""
    row = con.execute("SELECT status, quarantine_path FROM meta.file_manifest WHERE file_name=$n AND sha256=$s",
                      {"n": name, "s": sha}).fetchone()
    if row and row[0] == "quarantined" and row[1] and Path(row[1]).exists():
        path.unlink(missing_ok=True)


# Keyed by the contract's content, not its name: an edited contract gets a fresh suite.
_SUITES: dict[Contract, object] = {}


def _suite(contract: Contract):
    if contract not in _SUITES:
        _SUITES[contract] = build_suite(f"{contract.source_kind}__contract", contract.expectation_configs())
    return _SUITES[contract]
