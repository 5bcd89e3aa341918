"""The door's checks on the delivered rows: types and ranges and milestone order in DuckDB, the
contract's Great Expectations suite on an Arrow-backed frame.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from ingest.gx import build_suite, validate_frame
from ingest.landing.contracts import Column, Contract
from ingest.landing.outcome import Rejected, short_value, utc_now


def typed_sql(col, ident: str) -> str:
    """SQL that turns a text column into the contract's type, NULL where it does not parse."""
    if col.format:
        return f"TRY_CAST(TRY_STRPTIME({ident}, '{col.format.replace(chr(39), chr(39) * 2)}') AS {col.type})"
    return f"TRY_CAST({ident} AS {col.type})"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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
        eg = f", e.g. {[short_value(v) for v in f.examples[:3]]}" if f.examples else ""
        at = f" at line(s) {f.lines[:3]}" if f.lines else ""
        lines.append(f"{where} {what}{count}{eg}{at}{'; ' + f.detail if f.detail and not eg else ''}")
    return (
        f"{file_name}: breaks the {contract.source_kind} contract: "
        + "; ".join(lines)
        + f". Correct the export (contract: expectations/contracts/{contract.source_kind}.yml) "
        "and drop the corrected file into landing/."
    )


def _bounds(col) -> list[tuple[str, str]]:
    """(bound, operator) pairs a typed column's values must not cross; "now" for a log's future."""
    upper = col.max
    if upper is None and col.is_temporal and not col.allow_future:
        upper = "now"  # a log cannot hold the future (a day's slack for time zones and clocks)
    return [(bound, op) for bound, op in ((col.min, "<"), (upper, ">")) if bound is not None]


@dataclass(frozen=True)
class _TypedRule:
    """A rule on a typed column's values: ``where`` is true on a row that breaks it. ``bound`` is
    None for "the value casts to the column's type", else the bound it must not cross with ``op``
    ("now" for a log's future, ``limit`` its value)."""

    col: Column
    where: str
    params: dict
    bound: object = None
    op: str = ""
    limit: str = ""


def _typed_rules(contract: Contract) -> list[_TypedRule]:
    """Every typed column's rules, in order: it casts, then its bounds."""
    rules = []
    for col in contract.columns:
        if col.type.upper() == "VARCHAR":
            continue
        ident = quote_ident(col.name)
        typed = typed_sql(col, ident)
        rules.append(_TypedRule(col, f"{ident} IS NOT NULL AND {typed} IS NULL", {}))
        for bound, op in _bounds(col):
            name = f"b{len(rules)}"
            limit = _future_limit(col) if bound == "now" else str(bound)
            where = f"{typed} {op} CAST(${name} AS {col.type})"
            rules.append(_TypedRule(col, where, {name: limit}, bound, op, limit))
    return rules


def check_types(con: duckdb.DuckDBPyConnection, contract: Contract, file_name: str) -> None:
    """Typed columns must cast and sit within their range; report the first bad lines."""
    problems = _typed_problems(con, contract)
    code = "out_of_contract"
    if not problems:
        problems, code = _order_problems(con, contract), "contradictory_milestones"
    if problems:
        raise Rejected(
            code,
            f"{file_name}: "
            + "; ".join(problems)
            + f". Correct the export (contract: expectations/contracts/{contract.source_kind}.yml) "
            "and drop the corrected file into landing/.",
        )


def _typed_problems(con, contract: Contract) -> list[str]:
    """Each typed column's values that do not cast, or cross a bound: counts, first lines and
    values. One pass over the rows counts every rule's breaches (a pass per column and bound took
    longer); only a broken rule is read again for its lines, and a column that does not cast is
    not judged against its bounds."""
    rules = _typed_rules(contract)
    if not rules:
        return []
    params = {k: v for rule in rules for k, v in rule.params.items()}
    counts = con.execute(
        f"SELECT {', '.join(f'count(*) FILTER (WHERE {rule.where})' for rule in rules)} FROM delivered", params
    ).fetchone()
    problems, uncast = [], set()
    for rule, n in zip(rules, counts, strict=True):
        col = rule.col
        if not n or col.name in uncast:
            continue
        ident = quote_ident(col.name)
        lines_, vals = con.execute(
            f"SELECT list(_source_line ORDER BY _source_line)[1:3], list({ident} ORDER BY _source_line)[1:3] "
            f"FROM delivered WHERE {rule.where}",
            rule.params,
        ).fetchone()
        if rule.bound is None:
            uncast.add(col.name)
            fmt = f" in the format {col.format!r}" if col.format else ""
            problems.append(
                f"column '{col.name}' is not {col.type}{fmt} in {n} rows, "
                f"e.g. {[short_value(v) for v in vals]} at line(s) {lines_}"
            )
            continue
        if rule.bound == "now":
            word = f"in the future (after {rule.limit})"
        elif col.is_temporal and rule.op == "<":
            word = f"before {rule.bound}, the earliest date the contract allows (before the system existed)"
        else:
            word = f"{'below the minimum' if rule.op == '<' else 'above the maximum'} {rule.bound}"
        problems.append(
            f"column '{col.name}' is {word} in {n} rows, e.g. {[short_value(v) for v in vals]} at line(s) {lines_}"
        )
    return problems


def _future_limit(col) -> str:
    limit = utc_now() + dt.timedelta(days=1)
    return limit.date().isoformat() if col.type.upper() == "DATE" else limit.isoformat(sep=" ", timespec="seconds")


def _order_problems(con, contract: Contract) -> list[str]:
    """Milestones that contradict each other: the contract's order rules, checked on typed values."""
    problems = []
    by_name = {c.name: c for c in contract.columns}
    for a, b in contract.column_order:
        ta, tb = typed_sql(by_name[a], quote_ident(a)), typed_sql(by_name[b], quote_ident(b))
        n, lines_ = con.execute(
            f"SELECT count(*), list(_source_line ORDER BY _source_line)[1:3] FROM delivered WHERE {tb} < {ta}"
        ).fetchone()
        if n:
            problems.append(
                f"column '{b}' is before column '{a}' in {n} rows at line(s) {lines_} "
                "(milestones that contradict each other)"
            )
    rule = contract.milestone_order
    if rule:
        # One pass over the rows for every pair: each kind's first time and line per key.
        key, kind, time = quote_ident(rule.key), quote_ident(rule.kind), quote_ident(rule.time)
        typed_time = typed_sql(by_name[rule.time], time)
        kinds = sorted({k for pair in rule.pairs for k in pair})
        params = {f"k{i}": k for i, k in enumerate(kinds)}
        slot = {k: i for i, k in enumerate(kinds)}
        firsts = ", ".join(
            f"min({typed_time}) FILTER (WHERE {kind} = $k{i}) AS t{i}, "
            f"min(_source_line) FILTER (WHERE {kind} = $k{i}) AS l{i}"
            for i in range(len(kinds))
        )
        per_pair = ", ".join(
            f"count(*) FILTER (WHERE t{slot[b]} < t{slot[a]}), "
            f"list(k ORDER BY l{slot[b]}) FILTER (WHERE t{slot[b]} < t{slot[a]})[1:3], "
            f"list(l{slot[b]} ORDER BY l{slot[b]}) FILTER (WHERE t{slot[b]} < t{slot[a]})[1:3]"
            for a, b in rule.pairs
        )
        kind_list = ", ".join(f"$k{i}" for i in range(len(kinds)))
        found = con.execute(
            f"WITH firsts AS (SELECT {key} AS k, {firsts} FROM delivered WHERE {kind} IN ({kind_list}) GROUP BY {key}) "
            f"SELECT {per_pair} FROM firsts",
            params,
        ).fetchone()
        for i, (a, b) in enumerate(rule.pairs):
            n, keys, lines_ = found[3 * i : 3 * i + 3]
            if n:
                problems.append(
                    f"{n} {rule.key}(s) have {b} before {a} (milestones that contradict each other), "
                    f"e.g. {[short_value(k) for k in keys]} at line(s) {lines_}"
                )
    return problems


def delivered_arrow(con, contract: Contract):
    """The delivered rows (contract columns and line numbers) as an Arrow table: DuckDB hands
    them over in C, and the table stays valid whatever the connection does next."""
    return (
        con.table("delivered")
        .project(", ".join([quote_ident(c) for c in contract.column_names] + ["_source_line"]))
        .to_arrow_table()
    )


# pandas' ``str`` dtype (what ``future.infer_string`` infers), for every string type the
# delivered rows can hold.
_ARROW_STR = {t: pd.StringDtype("pyarrow", na_value=float("nan")) for t in (pa.string(), pa.large_string())}


def _door_frame(table, contract: Contract) -> pd.DataFrame:
    """The delivered rows as the pandas frame GX checks. GX's pandas metrics copy and
    fingerprint the whole frame, once per expectation: cheap on Arrow strings and on
    categoricals (the code columns), dear with a Python string per cell. Columns with a pattern
    are pandas' own Arrow strings (``str``, NaN for missing): GX matches them through
    ``astype(str)``, which ``validate_frame``'s ``future.infer_string`` keeps in Arrow, matched
    by RE2 (without it, or from another dtype, ``astype(str)`` makes a Python string per cell, or
    fixed-width NumPy text of rows times the longest value: a line of megabytes would need
    terabytes)."""
    columns = {}
    for c in contract.columns:
        values = table[c.name]
        if c.regex:
            columns[c.name] = values.to_pandas(types_mapper=_ARROW_STR.get)
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


def door_check(table, contract: Contract, name: str) -> None:
    """The contract's GX suite over the delivered rows; raises Rejected when any expectation fails."""
    failures = validate_frame(_door_frame(table, contract), door_suite(contract))
    # Values of pseudonymised columns never go into messages: the manifest lives in the
    # warehouse, which must not hold them in clear (the line numbers still point at them).
    secret_cols = {c.name for c in contract.columns if c.pseudonymise}
    for f in failures:
        if f.column in secret_cols and f.examples:
            f.examples = ["<withheld: pseudonymised column>"]
        f.examples = [_plain(v) for v in f.examples]
    if failures:
        raise Rejected(
            "out_of_contract",
            _describe(failures, contract, name),
            details=[dict(f.__dict__, examples=[short_value(v) for v in f.examples]) for f in failures],
        )


# Keyed by the contract's content, not its name: an edited contract gets a fresh suite.


DOOR_SUITES: dict[Contract, object] = {}


def door_suite(contract: Contract):
    if contract not in DOOR_SUITES:
        DOOR_SUITES[contract] = build_suite(f"{contract.source_kind}__contract", contract.expectation_configs())
    return DOOR_SUITES[contract]
