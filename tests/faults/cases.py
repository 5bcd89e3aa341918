"""Fault cases derived from a good file and its contract: the same list for every source kind.

Each case turns the good file's table (header and rows as text) into a faulty delivery and says
what must happen to it: the status, the reason code, and words the message must hold (the file,
the column or line, what to do). A case that cannot apply to a contract (no typed column, no
unique key, ...) says why instead. CSV-only cases (delimiter, gzip, very long line) are replaced
by spreadsheet ones (wrong sheet, not a zip) for XLSX contracts.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ingest.landing.contracts import Column, Contract

KOREAN = "수입신고 서류 심사"  # 'import declaration document review'
CLEAR_IDENTIFIER = "Kim Minsu 010-1234-5678"  # a person, in clear, where a pseudonymised code belongs
HUGE_CHARS = 3_000_000  # a line of several megabytes


@dataclass
class Table:
    header: list[str]
    rows: list[list[str | None]]


@dataclass
class Fault:
    case: str
    name: str  # landing file name
    data: bytes
    status: str  # loaded | quarantined
    code: str | None = None
    words: list[str] = field(default_factory=list)
    rows_loaded: int | None = None
    rows_quarantined: int | None = None
    raw_value: tuple[str, str] | None = None  # (column, text) that must arrive unchanged


@dataclass
class NotApplicable:
    case: str
    reason: str


# ---- reading and writing a contract's files -------------------------------------------------


def read_table(path: Path, contract: Contract) -> Table:
    if contract.file_format == "xlsx":
        import openpyxl

        from ingest.landing.read import cell_text

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book[contract.sheet] if contract.sheet else book.worksheets[0]
            rows = [[cell_text(c) for c in r] for r in sheet.iter_rows(min_row=contract.header_row, values_only=True)]
        finally:
            book.close()
        width = len(contract.column_names)
        body = [(r[:width] + [None] * width)[:width] for r in rows[1:] if any(v is not None for v in r)]
        return Table(list(contract.column_names), body)
    data = path.read_bytes()
    if contract.compression == "gzip":
        data = gzip.decompress(data)
    text = data.decode(contract.encoding).lstrip("\ufeff")
    parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=contract.delimiter))
    nulls = set(contract.null_strings)
    return Table(parsed[0], [[None if v in nulls else v for v in r] for r in parsed[1:] if r])


def write_csv(
    contract: Contract,
    table: Table,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
    bom: bool = False,
    crlf: bool = False,
    compress: bool | None = None,
) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter or contract.delimiter, lineterminator="\r\n" if crlf else "\n")
    null = contract.null_strings[0] if contract.null_strings else ""
    writer.writerow(table.header)
    writer.writerows([[null if v is None else v for v in r] for r in table.rows])
    data = (("\ufeff" if bom else "") + out.getvalue()).encode(encoding or contract.encoding)
    gz = contract.compression == "gzip" if compress is None else compress
    return gzip.compress(data, mtime=0) if gz else data


def write_xlsx(contract: Contract, table: Table | None, sheet: str | None = None) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet or contract.sheet or "Sheet1"
    if table is not None:
        for _ in range(contract.header_row - 1):
            ws.append(["report title"])  # title rows above the header, as exports have
        ws.append(table.header)
        for r in table.rows:
            ws.append(list(r))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def encode(contract: Contract, table: Table) -> bytes:
    return write_xlsx(contract, table) if contract.file_format == "xlsx" else write_csv(contract, table)


def rename(good_name: str, contract: Contract, index: int) -> str:
    """The good file's name with another data date, so the fault file is a delivery of its own."""
    m = contract.file_name.match(good_name)
    if not m or "data_date" not in m.groupdict():
        raise AssertionError(f"{contract.source_kind}: file_name needs a (?P<data_date>YYYYMMDD) group")
    day = (dt.date(2031, 1, 1) + dt.timedelta(days=index)).strftime("%Y%m%d")
    return good_name[: m.start("data_date")] + day + good_name[m.end("data_date") :]


# ---- values ---------------------------------------------------------------------------------


def _col(contract: Contract, name: str) -> Column:
    return next(c for c in contract.columns if c.name == name)


def _parse_time(value: str, col: Column) -> dt.datetime:
    if col.format:
        return dt.datetime.strptime(value, col.format)
    return dt.datetime.fromisoformat(value)


def _format_time(when: dt.datetime, col: Column, like: str | None) -> str:
    if col.format:
        return when.strftime(col.format)
    if col.type.upper() == "DATE" or (like and len(like) == 10):
        return when.date().isoformat()
    text = when.strftime("%Y-%m-%d %H:%M:%S")
    fraction = re.search(r"\.(\d+)$", like or "")
    return text + "." + "0" * len(fraction.group(1)) if fraction else text  # same shape as the good value


def _free_text(contract: Contract) -> Column | None:
    """A text column without codes or pattern: text there must arrive exactly as sent."""
    return next(
        (
            c
            for c in contract.columns
            if c.type.upper() == "VARCHAR" and not c.allowed and not c.regex and not c.pseudonymise
        ),
        None,
    )


def _first(table: Table, contract: Contract, pred) -> int | None:
    for i, c in enumerate(contract.columns):
        if pred(c) and any(r[i] is not None for r in table.rows):
            return i
    return None


def _row_with(table: Table, i: int) -> int:
    return next(n for n, r in enumerate(table.rows) if r[i] is not None)


def _copy(table: Table) -> Table:
    return Table(list(table.header), [list(r) for r in table.rows])


# ---- the cases --------------------------------------------------------------------------------

ACTION = re.compile(
    r"send|export|drop|rename|correct|fix|ask|save|decompress|compress|nothing to do|declare|set ", re.IGNORECASE
)


def faults(contract: Contract, good: Path) -> list[Fault | NotApplicable]:
    t = read_table(good, contract)
    n = len(t.rows)
    xlsx = contract.file_format == "xlsx"
    cols = contract.column_names
    out: list[Fault | NotApplicable] = []
    names = iter(range(1, 1000))

    def add(case, table_or_bytes, status, code=None, words=(), **kw):
        data = table_or_bytes if isinstance(table_or_bytes, bytes) else encode(contract, table_or_bytes)
        out.append(Fault(case, rename(good.name, contract, next(names)), data, status, code, list(words), **kw))

    def na(case, reason):
        out.append(NotApplicable(case, reason))

    assert n >= 2, f"{good.name}: a good file needs at least two rows for the fault cases"

    # -- empty and cut short
    if xlsx:
        add("empty_sheet", write_xlsx(contract, None), "quarantined", "empty_file", ["empty"])
        add("not_a_zip", write_csv(contract, t, compress=False), "quarantined", "not_xlsx", ["xlsx"])
        if contract.sheet:
            add("wrong_sheet", write_xlsx(contract, t, sheet="Sheet9"), "quarantined", "wrong_sheet", [contract.sheet])
        else:
            na("wrong_sheet", "the contract reads the first sheet, whatever its name")
    else:
        add(
            "empty_file",
            gzip.compress(b"", mtime=0) if contract.compression == "gzip" else b"",
            "quarantined",
            "empty_file",
            ["empty"],
        )
        whole = write_csv(contract, t)
        if contract.compression == "gzip":
            add("truncated_gzip", whole[: len(whole) // 2], "quarantined", "unreadable", ["again"])
            add("not_gzip", write_csv(contract, t, compress=False), "quarantined", "not_gzip", ["gzip"])
        else:
            text = write_csv(contract, t)
            cut = text.index(b"\n", len(text) // 2) + 1  # start of a line past the middle
            cut = text.index(contract.delimiter.encode(), cut) + 1  # just after its first field
            add("truncated", text[:cut], "quarantined", "unreadable", ["line", "again"])
            add("gzip_instead_of_plain", gzip.compress(text, mtime=0), "quarantined", "not_plain_text", ["decompress"])
        if len(cols) > 1:
            other = ";" if contract.delimiter != ";" else ","
            add(
                "wrong_delimiter",
                write_csv(contract, t, delimiter=other),
                "quarantined",
                "header_mismatch",
                ["delimiter", cols[0]],
            )
        else:
            na("wrong_delimiter", "a single-column file has no delimiter to get wrong")
    if contract.may_be_empty:  # a quiet day: zero rows, loaded and recorded
        add("header_only", Table(t.header, []), "loaded", rows_loaded=0, rows_quarantined=0)
    else:
        add("header_only", Table(t.header, []), "quarantined", "header_only", ["no rows", "may_be_empty"])

    # -- columns
    drop = next((i for i, c in enumerate(contract.columns) if c.required), 0)
    add(
        "missing_column",
        Table(
            [h for i, h in enumerate(t.header) if i != drop],
            [[v for i, v in enumerate(r) if i != drop] for r in t.rows],
        ),
        "quarantined",
        "header_mismatch",
        ["missing", cols[drop]],
    )
    add(
        "extra_column",
        Table(t.header + ["unexpected_extra"], [r + ["x"] for r in t.rows]),
        "quarantined",
        "header_mismatch",
        ["unknown", "unexpected_extra"],
    )
    renamed = _copy(t)
    renamed.header[-1] = cols[-1] + "_v2"
    add("renamed_column", renamed, "quarantined", "header_mismatch", [cols[-1], cols[-1] + "_v2"])

    # -- values
    i = _first(t, contract, lambda c: c.type.upper() != "VARCHAR" and not c.pseudonymise)
    if i is None:
        na("wrong_type", "no typed (non-text) column")
    else:
        bad = _copy(t)
        bad.rows[_row_with(t, i)][i] = "n/a-text"
        add("wrong_type", bad, "quarantined", "out_of_contract", [cols[i], "n/a-text", "line"])
    i = _first(t, contract, lambda c: bool(c.allowed))
    if i is None:
        na("unknown_code", "no column with allowed codes")
    else:
        bad = _copy(t)
        bad.rows[_row_with(t, i)][i] = "ZZ_UNKNOWN"
        add("unknown_code", bad, "quarantined", "out_of_contract", [cols[i], "ZZ_UNKNOWN", "line"])
    i = _first(t, contract, lambda c: bool(c.regex) and not c.allowed)
    if i is None:
        na("bad_pattern", "no column with a pattern")
    else:
        bad = _copy(t)
        bad.rows[_row_with(t, i)][i] = "!bad pattern!"
        add("bad_pattern", bad, "quarantined", "out_of_contract", [cols[i], "line"])
    i = _first(t, contract, lambda c: c.pseudonymise and bool(c.regex))
    if i is None:
        na("pseudonymised_value_in_message", "no pseudonymised column with a pattern")
    else:  # the reason must say where, never quote the value (it is what pseudonymisation hides)
        bad = _copy(t)
        bad.rows[_row_with(t, i)][i] = CLEAR_IDENTIFIER
        add("pseudonymised_value_in_message", bad, "quarantined", "out_of_contract", [cols[i], "withheld", "line"])
    i = _first(t, contract, lambda c: not c.is_temporal and (c.min is not None or c.max is not None))
    if i is None:
        na("out_of_range", "no numeric column with a min or max")
    else:
        c = contract.columns[i]
        try:
            value = str(Decimal(str(c.min)) - 1) if c.min is not None else str(Decimal(str(c.max)) + 1)
        except InvalidOperation:
            value = None
        if value is None:
            na("out_of_range", f"column {c.name}: bound {c.min or c.max!r} is not a number")
        else:
            bad = _copy(t)
            bad.rows[_row_with(t, i)][i] = value
            add(
                "out_of_range",
                bad,
                "quarantined",
                "out_of_contract",
                [c.name, "minimum" if c.min is not None else "maximum", "line"],
            )
    i = _first(t, contract, lambda c: c.required)
    if i is None:
        na("missing_required_value", "no required column")
    else:
        bad = _copy(t)
        bad.rows[_row_with(t, i)][i] = None
        add("missing_required_value", bad, "quarantined", "out_of_contract", [cols[i], "empty"])

    # -- duplicates
    dup = _copy(t)
    dup.rows.append(list(t.rows[0]))
    add(
        "duplicate_rows",
        dup,
        "loaded",
        rows_loaded=n if contract.unique_key else n + 1,
        rows_quarantined=1 if contract.unique_key else 0,
    )
    if contract.unique_key:
        key_idx = [cols.index(k) for k in contract.unique_key]
        clash = _copy(t)
        for other in t.rows[1:]:
            row = list(other)
            for k in key_idx:
                row[k] = t.rows[0][k]
            if row != t.rows[0]:
                clash.rows.append(row)
                break
        add("duplicate_key", clash, "quarantined", "out_of_contract", [contract.unique_key[0], "unique"])
    else:
        na("duplicate_key", "no unique key in the contract")
    out.append(
        Fault(
            "same_file_other_name",
            rename(good.name, contract, next(names)),
            good.read_bytes(),
            "quarantined",
            "duplicate_content",
            [good.name],
        )
    )

    # -- order and time
    add("rows_out_of_order", Table(t.header, list(reversed(t.rows))), "loaded", rows_loaded=n, rows_quarantined=0)
    i = _first(t, contract, lambda c: c.is_temporal and not (c.allow_future and c.max is None))
    if i is None:
        na("future_timestamp", "no date or time column that refuses the future")
    else:
        c = contract.columns[i]
        bad = _copy(t)
        r = _row_with(t, i)
        bad.rows[r][i] = _format_time(dt.datetime(2999, 1, 1, 12), c, t.rows[r][i])
        add("future_timestamp", bad, "quarantined", "out_of_contract", [c.name, "line"])
    i = _first(t, contract, lambda c: c.is_temporal and c.min is not None)
    if i is None:
        na("before_system_start", "no date or time column declares `min:` (the day the system started)")
    else:
        c = contract.columns[i]
        bad = _copy(t)
        r = _row_with(t, i)
        bad.rows[r][i] = _format_time(dt.datetime.fromisoformat(str(c.min)) - dt.timedelta(days=1), c, t.rows[r][i])
        add("before_system_start", bad, "quarantined", "out_of_contract", [c.name, "before", "line"])
    contradiction = _contradict(contract, t)
    if isinstance(contradiction, str):
        na("contradictory_milestones", contradiction)
    else:
        add(
            "contradictory_milestones",
            contradiction[0],
            "quarantined",
            "contradictory_milestones",
            [contradiction[1], "before", "line"],
        )

    # -- encodings and line ends
    text_col = _free_text(contract)
    target = cols.index(text_col.name) if text_col else _first(t, contract, lambda c: c.type.upper() == "VARCHAR")
    if xlsx:
        if text_col:
            kor = _copy(t)
            kor.rows[0][target] = KOREAN
            add("korean_text", kor, "loaded", rows_loaded=n, raw_value=(text_col.name, KOREAN))
        else:
            na("korean_text", "no free-text column")
        na("korean_legacy_encoding", "a workbook stores Unicode; there is no legacy encoding to get wrong")
        na("utf8_bom", "CSV only")
        na("crlf_line_ends", "CSV only")
        na("line_of_megabytes", "a spreadsheet cell holds at most 32,767 characters")
    else:
        utf8 = contract.encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")
        if target is None:
            na("korean_legacy_encoding", "no text column")
        else:
            kor = _copy(t)
            kor.rows[0][target] = KOREAN
            if utf8:
                add(
                    "korean_legacy_encoding",
                    write_csv(contract, kor, encoding="cp949"),
                    "quarantined",
                    "encoding",
                    ["CP949", "line", "UTF-8"],
                )
            elif text_col:
                add("korean_legacy_encoding", kor, "loaded", rows_loaded=n, raw_value=(text_col.name, KOREAN))
            else:
                na("korean_legacy_encoding", "the contract's encoding is not UTF-8 and it has no free-text column")
            if utf8 and text_col:
                add("korean_utf8", write_csv(contract, kor), "loaded", rows_loaded=n, raw_value=(text_col.name, KOREAN))
            elif utf8:
                na("korean_utf8", "no free-text column (every text column has codes or a pattern)")
        if utf8:
            add("utf8_bom", write_csv(contract, t, bom=True), "loaded", rows_loaded=n, rows_quarantined=0)
        else:
            na("utf8_bom", f"the contract's encoding is {contract.encoding}")
        crlf = write_csv(contract, t, crlf=True)
        if crlf == good.read_bytes():  # the sender already uses CRLF: the other line ends must load too
            add("crlf_line_ends", write_csv(contract, t, crlf=False), "loaded", rows_loaded=n, rows_quarantined=0)
        else:
            add("crlf_line_ends", crlf, "loaded", rows_loaded=n, rows_quarantined=0)
        if target is None:
            na("line_of_megabytes", "no text column")
        else:
            big = _copy(t)
            big.rows[0][target] = "X" * HUGE_CHARS
            if text_col:
                add("line_of_megabytes", big, "loaded", rows_loaded=n)
            else:
                add("line_of_megabytes", big, "quarantined", "out_of_contract", [cols[target], "line"])
    return out


def _contradict(contract: Contract, t: Table) -> tuple[Table, str] | str:
    """The good table with one milestone moved before the one it must follow, and the word
    (key value or column) the message must name; or why the contract declares no such rule."""
    cols = contract.column_names
    for a, b in contract.column_order:
        ia, ib = cols.index(a), cols.index(b)
        for r, row in enumerate(t.rows):
            if row[ia] and row[ib]:
                bad = _copy(t)
                ca, cb = _col(contract, a), _col(contract, b)
                bad.rows[r][ib] = _format_time(_parse_time(row[ia], ca) - dt.timedelta(days=1), cb, row[ib])
                return bad, b
    rule = contract.milestone_order
    if rule:
        ik, ikind, itime = cols.index(rule.key), cols.index(rule.kind), cols.index(rule.time)
        tc = _col(contract, rule.time)
        for a, b in rule.pairs:
            first_a = {}
            for row in t.rows:
                if row[ikind] == a:
                    first_a.setdefault(row[ik], row[itime])
            for row in t.rows:
                if row[ikind] == b and row[ik] in first_a:
                    bad = _copy(t)
                    earlier = _parse_time(first_a[row[ik]], tc) - dt.timedelta(days=1)
                    for rr, other in enumerate(t.rows):  # every b of that key moves before a
                        if other[ik] == row[ik] and other[ikind] == b:
                            bad.rows[rr][itime] = _format_time(earlier, tc, other[itime])
                    return bad, row[ik]
    if contract.column_order or rule:
        return "the good file has no row where the declared milestones both appear"
    return "the contract declares no milestone order (milestone_order or column_order)"
