"""The DuckDB warehouse: one writer at a time, raw and meta schemas; a lost or damaged file
said so, with what to do."""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator

import duckdb

from ingest.config import Home
from ingest.landing.archive import journal_has_records
from ingest.landing.contracts import load_contracts


class WarehouseLost(RuntimeError):
    """The warehouse file is missing or cannot be opened, in a home that has loaded files."""


LINEAGE_COLUMNS = [
    ("_source_file", "VARCHAR NOT NULL"),
    ("_source_sha256", "VARCHAR NOT NULL"),
    ("_source_line", "BIGINT NOT NULL"),
    ("_batch_id", "VARCHAR NOT NULL"),
    ("_loaded_at", "TIMESTAMP NOT NULL"),
]

META_DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS meta.file_manifest (
    file_name        VARCHAR NOT NULL,
    source_kind      VARCHAR,
    sha256           VARCHAR NOT NULL,
    size_bytes       BIGINT NOT NULL,
    data_date        DATE,
    batch_id         VARCHAR NOT NULL,
    status           VARCHAR NOT NULL,   -- loaded | quarantined
    rows_landed      BIGINT,
    rows_loaded      BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    reason_code      VARCHAR,
    message          VARCHAR,
    quarantine_path  VARCHAR,
    recorded_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (file_name, sha256)
);
-- Successful dbt builds: the tests of the next build check rows loaded after loaded_through.
CREATE TABLE IF NOT EXISTS meta.dbt_builds (
    built_at       TIMESTAMP NOT NULL,
    loaded_through TIMESTAMP NOT NULL,
    full_refresh   BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS meta.runs (
    batch_id     VARCHAR PRIMARY KEY,
    logical_date DATE,
    trigger      VARCHAR,
    step         VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,
    detail       VARCHAR,
    started_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
-- When the file's rows were loaded (their _loaded_at), and its archived copy (archive/, relative
-- to the home): what `swpm rebuild` reloads it from, with the same load time.
ALTER TABLE meta.file_manifest ADD COLUMN IF NOT EXISTS loaded_at TIMESTAMP;
ALTER TABLE meta.file_manifest ADD COLUMN IF NOT EXISTS archive_path VARCHAR;
-- What a run warned about without failing (stale sources): kept through its later steps.
ALTER TABLE meta.runs ADD COLUMN IF NOT EXISTS warnings VARCHAR;
-- Source freshness (ingest/run/freshness.py), one row per source table per check: the newest
-- _loaded_at against the source's warn_after window. Warn only: a stale source never stops a run.
CREATE TABLE IF NOT EXISTS meta.source_freshness (
    checked_at    TIMESTAMP NOT NULL,
    batch_id      VARCHAR,
    source        VARCHAR NOT NULL,   -- <dbt source>.<table>, e.g. clearance.clearance_events
    status        VARCHAR NOT NULL,   -- pass | warn | error | runtime error | no data (never loaded)
    max_loaded_at TIMESTAMP,          -- newest _loaded_at (UTC)
    age_hours     DOUBLE,
    warn_after    VARCHAR,            -- e.g. '2 days'
    detail        VARCHAR,
    PRIMARY KEY (checked_at, source)
);
-- Alerts (ingest/run/alerts.py): every breach kpi_alerts has shown, when it was first seen and
-- when a digest mailed it; rebuilding the marts never touches it (kpi_alerts reads first_seen_at).
CREATE TABLE IF NOT EXISTS meta.alert_log (
    alert_key        VARCHAR PRIMARY KEY,
    alert_rule       VARCHAR NOT NULL,
    severity         VARCHAR NOT NULL,
    period_start     DATE,
    message          VARCHAR NOT NULL,   -- as first seen
    first_seen_at    TIMESTAMP NOT NULL,
    first_seen_batch VARCHAR NOT NULL,
    last_seen_at     TIMESTAMP NOT NULL,
    cleared_at       TIMESTAMP,          -- no longer in kpi_alerts (NULL: open)
    mailed_at        TIMESTAMP,          -- told by a digest (NULL: not yet)
    mailed_batch     VARCHAR
);
-- One row per digest the alert step sent or meant to send.
CREATE TABLE IF NOT EXISTS meta.alert_digests (
    attempted_at TIMESTAMP NOT NULL,
    batch_id     VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,       -- sent | not configured | failed
    alerts       INTEGER NOT NULL,
    recipients   VARCHAR,
    detail       VARCHAR
);
"""


def raw_table_ddl() -> str:
    statements = []
    for contract in load_contracts().values():
        cols = [f'"{c.name}" {c.type}' for c in contract.columns]
        cols += [f"{name} {typ}" for name, typ in LINEAGE_COLUMNS]
        statements.append(f"CREATE TABLE IF NOT EXISTS {contract.raw_table} (\n    " + ",\n    ".join(cols) + "\n);")
    return "\n".join(statements)


@contextlib.contextmanager
def writer_lock(home: Home, shared: bool = False) -> Iterator[None]:
    """Serialise access across processes (Airflow workers, the CLI): DuckDB lets one process
    write, and a writer excludes readers of the same file. Readers share the lock."""
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with open(home.warehouse_dir / ".writer.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


REBUILD_HINT = (
    "The loaded files are kept (archive/, landing/) with the manifest's journal (archive/manifest.jsonl): "
    "run `swpm rebuild` to rebuild the warehouse from them (docs/operations.md#disasters). The served "
    "snapshot is untouched meanwhile."
)


def loaded_before(home: Home) -> bool:
    """True when this home has loaded files before: its manifest journal has records, or the
    served snapshot was built from recorded files. A missing warehouse is then a lost one, not
    a new home."""
    if journal_has_records(home):
        return True
    try:
        info = json.loads(home.snapshot_info.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool((info.get("source") or {}).get("files_recorded"))


def check_present(home: Home) -> None:
    """Raise :class:`WarehouseLost` when the warehouse file is gone from a home that had one."""
    if not home.warehouse.exists() and loaded_before(home):
        raise WarehouseLost(
            f"the warehouse {home.warehouse} is missing, but this home has loaded files before. {REBUILD_HINT}"
        )


def _open(home: Home, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(home.warehouse), read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():  # another process outside swpm holds the file
            raise
        raise WarehouseLost(
            f"the warehouse {home.warehouse} cannot be opened ({text.splitlines()[0]}): it is damaged, "
            f"e.g. truncated. {REBUILD_HINT}"
        ) from exc


@contextlib.contextmanager
def connect(home: Home, read_only: bool = False, create: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse, holding the lock for its whole life: shared for readers,
    exclusive for the writer, which also makes sure the raw and meta schemas exist. A writer
    creates the file in a new home; in a home that has loaded files before, a missing or
    damaged file raises :class:`WarehouseLost` (``create`` is for ``swpm rebuild``)."""
    if not create:
        check_present(home)
    with writer_lock(home, shared=read_only):
        con = _open(home, read_only)
        try:
            if not read_only:
                con.execute(META_DDL)
                con.execute(raw_table_ddl())
            yield con
        finally:
            con.close()
