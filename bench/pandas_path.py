"""The alternative a team would usually write: pandas ``read_csv``, the contract's checks in
pandas, and ``DataFrame.to_sql`` through SQLAlchemy (duckdb-engine) into a DuckDB file.

It does the same work as the loader on the same files: header, required, allowed codes,
patterns, unique key, types and ranges, then the rows with the same lineage columns into a table
of the same schema. A breach raises (the benchmark only feeds it good files).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from ingest.landing.contracts import Contract, contract_for
from ingest.landing.load import sha256_of


def _typed(series: pd.Series, col) -> pd.Series:
    kind = col.type.upper()
    if kind in ("TIMESTAMP", "DATE"):
        return pd.to_datetime(series, format=col.format or "ISO8601", errors="coerce")
    if kind in ("BIGINT", "INTEGER", "SMALLINT", "DOUBLE", "FLOAT", "REAL") or kind.startswith("DECIMAL"):
        return pd.to_numeric(series, errors="coerce")
    return series


def check_frame(df: pd.DataFrame, contract: Contract, name: str) -> pd.DataFrame:
    """The contract's checks; returns the typed frame."""
    if list(df.columns) != contract.column_names:
        raise ValueError(f"{name}: header {list(df.columns)} != {contract.column_names}")
    if df.empty:
        raise ValueError(f"{name}: no rows")
    typed = {}
    for col in contract.columns:
        s = df[col.name]
        present = s.notna()
        if col.required and not present.all():
            raise ValueError(f"{name}: {col.name} empty at line(s) {list(df.index[~present][:3] + 2)}")
        if col.allowed is not None and not s[present].isin(list(col.allowed)).all():
            raise ValueError(f"{name}: {col.name} holds codes outside {col.allowed}")
        if col.regex and not s[present].str.match(col.regex).all():
            raise ValueError(f"{name}: {col.name} does not match {col.regex}")
        t = _typed(s, col)
        if t is not s:
            if (t.isna() & present).any():
                raise ValueError(f"{name}: {col.name} is not {col.type}")
            for bound, below in ((col.min, True), (col.max, False)):
                if bound is None:
                    continue
                b = _typed(pd.Series([str(bound)]), col)[0]
                if (t < b).any() if below else (t > b).any():
                    raise ValueError(f"{name}: {col.name} out of range {bound}")
        typed[col.name] = t
    if contract.unique_key and df.duplicated(list(contract.unique_key)).any():
        raise ValueError(f"{name}: duplicate {contract.unique_key}")
    return pd.DataFrame(typed)


def load_files(files: list[Path], database: str) -> dict:
    from ingest.warehouse import raw_table_ddl

    engine = sa.create_engine(f"duckdb:///{database}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS raw")
        for statement in raw_table_ddl().split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)
    rows = 0
    for path in files:
        contract = contract_for(path.name)
        df = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=list(contract.null_strings),
            sep=contract.delimiter,
            encoding=contract.encoding,
        )
        typed = check_frame(df, contract, path.name)
        typed["_source_file"] = path.name
        typed["_source_sha256"] = sha256_of(path)
        typed["_source_line"] = range(2, len(typed) + 2)
        typed["_batch_id"] = "bench-pandas"
        typed["_loaded_at"] = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with engine.begin() as conn:
            typed.to_sql(contract.source_kind, conn, schema="raw", if_exists="append", index=False)
        rows += len(typed)
    with engine.connect() as conn:
        counted = sum(
            conn.exec_driver_sql(f"SELECT count(*) FROM raw.{k}").scalar()
            for k in ("clearance_declarations", "clearance_events")
        )
    engine.dispose()
    if counted != rows:
        raise RuntimeError(f"pandas path: {rows} rows read but {counted} in the tables")
    return {"rows": rows, "files": len(files)}
