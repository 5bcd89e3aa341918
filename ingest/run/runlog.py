"""The warehouse's run log (``meta.runs``): one row per run, updated as its steps go; and what
``swpm status`` reports from it and from the file manifest."""

from __future__ import annotations

import datetime as dt
import uuid

from ingest.config import Home
from ingest.run import publish as publisher
from ingest.warehouse import connect


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
) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with connect(home) as con:
        con.execute(
            """
            INSERT INTO meta.runs VALUES ($b, $d, $t, $s, $st, $detail, $now, $now)
            ON CONFLICT (batch_id) DO UPDATE SET step = excluded.step, status = excluded.status,
                detail = excluded.detail, updated_at = excluded.updated_at
            """,
            {
                "b": batch_id,
                "d": logical_date,
                "t": trigger,
                "s": step,
                "st": status,
                "detail": detail[:2000],
                "now": now,
            },
        )


def status(home: Home) -> dict:
    """What was loaded, quarantined and published, and when."""
    out: dict = {"home": str(home.root), "snapshot": publisher.current_snapshot(home)}
    if not home.warehouse.exists():
        out.update(files=[], totals={}, runs=[])
        return out
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
        out["runs"] = [
            dict(
                zip(["batch_id", "logical_date", "trigger", "step", "status", "detail", "started_at", "updated_at"], r)
            )
            for r in con.execute("SELECT * FROM meta.runs ORDER BY started_at DESC LIMIT 10").fetchall()
        ]
    return out
