"""The warehouse's run log (``meta.runs``): one row per run, updated as its steps go; and what
``swpm status`` reports from it and from the file manifest."""

from __future__ import annotations

import datetime as dt
import uuid

from ingest.config import Home
from ingest.run import alerts, freshness
from ingest.run import publish as publisher
from ingest.run.lock import current_holder
from ingest.warehouse import WarehouseLost, check_present, connect


def new_batch_id(logical_date: dt.date | None = None, trigger: str = "cli") -> str:
    day = (logical_date or dt.date.today()).strftime("%Y%m%d")
    return f"{trigger}_{day}_{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:6]}"


def record_step(
    home: Home,
    batch_id: str,
    step: str,
    status: str,
    detail: str = "",
    logical_date: dt.date | None = None,
    trigger: str = "cli",
    warnings: str | None = None,
) -> None:
    """The run's current step and status. ``warnings`` (what a step warned about without
    failing, e.g. stale sources) stay on the run through its later steps."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with connect(home) as con:
        con.execute(
            """
            INSERT INTO meta.runs (batch_id, logical_date, trigger, step, status, detail, started_at, updated_at,
                                   warnings)
            VALUES ($b, $d, $t, $s, $st, $detail, $now, $now, $warnings)
            ON CONFLICT (batch_id) DO UPDATE SET step = excluded.step, status = excluded.status,
                detail = excluded.detail, updated_at = excluded.updated_at,
                warnings = coalesce(excluded.warnings, warnings)
            """,
            {
                "b": batch_id,
                "d": logical_date,
                "t": trigger,
                "s": step,
                "st": status,
                "detail": detail[:2000],
                "now": now,
                "warnings": warnings[:2000] if warnings else None,
            },
        )


def status(home: Home) -> dict:
    """What was loaded, quarantined and published, and when; which sources are stale; who holds
    the home's writer lock; a lost warehouse, and folders of delivered files others can read."""
    holder = current_holder(home)
    out: dict = {
        "home": str(home.root),
        "snapshot": publisher.current_snapshot(home),
        "writer": holder.describe() if holder else None,
        "exposed_folders": [
            f"{folder} (mode {folder.stat().st_mode & 0o777:o})"
            for folder in home.private_folders
            if folder.is_dir() and folder.stat().st_mode & 0o077
        ],
        "warehouse_problem": None,
    }
    empty = dict(files=[], totals={}, runs=[], source_freshness=[], stale_sources=[], alerts=None)
    try:
        check_present(home)
        if not home.warehouse.exists():
            out.update(empty)
            return out
        return _status_from_warehouse(home, out)
    except WarehouseLost as exc:
        out.update(empty, warehouse_problem=str(exc))
        return out


def _status_from_warehouse(home: Home, out: dict) -> dict:
    with connect(home, read_only=True) as con:
        out["totals"] = [
            dict(
                zip(
                    [
                        "source_kind",
                        "status",
                        "files",
                        "rows_landed",
                        "rows_loaded",
                        "rows_quarantined",
                        "last_recorded_at",
                    ],
                    r,
                )
            )
            for r in con.execute(
                """SELECT coalesce(source_kind, '?'), status, count(*), sum(rows_landed), sum(rows_loaded),
                          sum(rows_quarantined), max(recorded_at)
                   FROM meta.file_manifest GROUP BY ALL ORDER BY 1, 2"""
            ).fetchall()
        ]
        out["quarantined"] = [
            dict(zip(["file_name", "reason_code", "message", "recorded_at"], r))
            for r in con.execute(
                """SELECT file_name, reason_code, message, recorded_at FROM meta.file_manifest
                   WHERE status = 'quarantined' ORDER BY recorded_at DESC LIMIT 20"""
            ).fetchall()
        ]
        # A warehouse made before the run log's warnings and the freshness checks gets them at its
        # next writer connection (ingest/warehouse.py META_DDL); until then they are empty.
        meta = {
            r[0]
            for r in con.execute(
                "SELECT table_name || '.' || column_name FROM duckdb_columns() WHERE schema_name = 'meta'"
            ).fetchall()
        }
        columns = ["batch_id", "logical_date", "trigger", "step", "status", "detail", "started_at", "updated_at"]
        warnings = "warnings" if "runs.warnings" in meta else "NULL"
        out["runs"] = [
            dict(zip([*columns, "warnings"], r))
            for r in con.execute(
                f"SELECT {', '.join(columns)}, {warnings} FROM meta.runs ORDER BY started_at DESC LIMIT 10"
            ).fetchall()
        ]
        # The latest source freshness check (ingest/run/freshness.py); the stale ones by name.
        out["source_freshness"] = freshness.latest(con) if "source_freshness.source" in meta else []
        out["stale_sources"] = [s for s in out["source_freshness"] if s["stale"]]
        # The open alerts as the latest alert step left them (ingest/run/alerts.py).
        out["alerts"] = alerts.open_alerts(con) if "alert_log.alert_key" in meta else None
    return out
