"""The nightly run's steps, shared by the Airflow DAG and the ``swpm`` command line.

discover -> load (per file) -> build (dbt) -> check (GX on marts) -> publish (snapshot).
Each step is safe to repeat: loads are idempotent per file, dbt models are incremental on load
time, and publishing is an atomic swap.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from ingest import publish as publisher, transform
from ingest.config import Home
from ingest.warehouse import connect

if TYPE_CHECKING:  # loader and quality import Great Expectations (seconds): only when used
    from ingest import loader, quality


class MartChecksFailed(RuntimeError):
    pass


def new_batch_id(logical_date: dt.date | None = None, trigger: str = "cli") -> str:
    day = (logical_date or dt.date.today()).strftime("%Y%m%d")
    return f"{trigger}_{day}_{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:6]}"


def record_step(home: Home, batch_id: str, step: str, status: str, detail: str = "",
                logical_date: dt.date | None = None, trigger: str = "cli") -> None:
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with connect(home) as con:
        con.execute(
            """
            INSERT INTO meta.runs VALUES ($b, $d, $t, $s, $st, $detail, $now, $now)
            ON CONFLICT (batch_id) DO UPDATE SET step = excluded.step, status = excluded.status,
                detail = excluded.detail, updated_at = excluded.updated_at
            """,
            {"b": batch_id, "d": logical_date, "t": trigger, "s": step, "st": status, "detail": detail[:2000], "now": now},
        )


def load(home: Home, batch_id: str, until: dt.date | None = None,
         progress: Callable[[int, int, loader.FileOutcome], None] | None = None) -> list[loader.FileOutcome]:
    from ingest import loader

    files = loader.discover(home, until=until)
    outcomes = []
    for i, path in enumerate(files, 1):
        outcome = loader.load_file(home, path, batch_id)
        outcomes.append(outcome)
        if progress:
            progress(i, len(files), outcome)
    return outcomes


def is_published_current(home: Home) -> bool:
    """True when the served snapshot was built from everything the warehouse holds now."""
    snapshot = publisher.current_snapshot(home)
    if not snapshot or not home.warehouse.exists():
        return False
    with connect(home, read_only=True) as con:
        return snapshot.get("source") == publisher.warehouse_watermark(con)


def has_loaded_rows(home: Home) -> bool:
    if not home.warehouse.exists():
        return False
    with connect(home, read_only=True) as con:
        return bool(con.execute("SELECT count(*) FROM meta.file_manifest WHERE status = 'loaded'").fetchone()[0])


def build(home: Home, full_refresh: bool = False) -> transform.DbtResult:
    return transform.build(home, full_refresh=full_refresh)


def check(home: Home) -> list[quality.CheckResult]:
    from ingest import quality

    results = quality.check_marts(home)
    failed = [r for r in results if not r.success]
    if failed:
        lines = [f"{r.name}: " + "; ".join(f"{f.expectation} {f.column or ''} {f.unexpected_count or ''} "
                                          f"{f.examples or f.detail}" for f in r.failures) for r in failed]
        raise MartChecksFailed("mart checks failed, snapshot not published (see serving/docs/gx): "
                               + " | ".join(lines))
    return results


def publish(home: Home, batch_id: str) -> dict:
    return publisher.publish(home, batch_id)


@dataclass
class RunSummary:
    batch_id: str
    logical_date: dt.date | None
    outcomes: list = field(default_factory=list)
    built: bool = False
    published: dict | None = None
    skipped_reason: str | None = None


def run(home: Home, logical_date: dt.date | None = None, trigger: str = "cli",
        progress=None, log: Callable[[str], None] = print) -> RunSummary:
    """All steps of the nightly run for ``logical_date``: files whose data date is after it wait."""
    home.ensure()
    batch_id = new_batch_id(logical_date, trigger)
    summary = RunSummary(batch_id, logical_date)
    record_step(home, batch_id, "load", "running", logical_date=logical_date, trigger=trigger)
    summary.outcomes = load(home, batch_id, until=logical_date, progress=progress)
    loaded = sum(o.status == "loaded" for o in summary.outcomes)
    quarantined = sum(o.status == "quarantined" for o in summary.outcomes)
    log(f"load: {len(summary.outcomes)} new file(s), {loaded} loaded, {quarantined} quarantined")
    if not has_loaded_rows(home):
        summary.skipped_reason = "nothing loaded yet"
    elif is_published_current(home):
        summary.skipped_reason = "snapshot already current"
    if summary.skipped_reason:
        log(f"build/check/publish skipped: {summary.skipped_reason}")
        record_step(home, batch_id, "done", "skipped", summary.skipped_reason)
        return summary
    step = "build"
    try:
        record_step(home, batch_id, step, "running")
        build(home)
        summary.built = True
        step = "check"
        record_step(home, batch_id, step, "running")
        check(home)
        step = "publish"
        record_step(home, batch_id, step, "running")
        summary.published = publish(home, batch_id)
    except Exception as exc:
        record_step(home, batch_id, step, "failed", str(exc))
        raise
    record_step(home, batch_id, "done", "success", f"snapshot {summary.published['snapshot_id']}")
    log(f"published snapshot {summary.published['snapshot_id']} to {home.serving}")
    return summary


def status(home: Home) -> dict:
    """What was loaded, quarantined and published, and when."""
    out: dict = {"home": str(home.root), "snapshot": publisher.current_snapshot(home)}
    if not home.warehouse.exists():
        out.update(files=[], totals={}, runs=[])
        return out
    with connect(home, read_only=True) as con:
        out["totals"] = [
            dict(zip(["source_kind", "status", "files", "rows_landed", "rows_loaded", "rows_quarantined", "last_recorded_at"], r))
            for r in con.execute(
                """SELECT coalesce(source_kind, '?'), status, count(*), sum(rows_landed), sum(rows_loaded),
                          sum(rows_quarantined), max(recorded_at)
                   FROM meta.file_manifest GROUP BY ALL ORDER BY 1, 2""").fetchall()
        ]
        out["quarantined"] = [
            dict(zip(["file_name", "reason_code", "message", "recorded_at"], r))
            for r in con.execute(
                """SELECT file_name, reason_code, message, recorded_at FROM meta.file_manifest
                   WHERE status = 'quarantined' ORDER BY recorded_at DESC LIMIT 20""").fetchall()
        ]
        out["runs"] = [
            dict(zip(["batch_id", "logical_date", "trigger", "step", "status", "detail", "started_at", "updated_at"], r))
            for r in con.execute("SELECT * FROM meta.runs ORDER BY started_at DESC LIMIT 10").fetchall()
        ]
    return out


def headline(home: Home) -> list[tuple]:
    """Release time per year for air-cargo imports, from the published snapshot."""
    import duckdb

    path = home.serving / "marts.duckdb"
    if not path.exists():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            """SELECT year(period_start) AS year, declarations, released,
                      round(mean_hours / 24, 2), round(median_hours / 24, 2), round(p90_hours / 24, 2)
               FROM trs_release_time
               WHERE period_type = 'year' AND grouping_set = 'period+type+mode'
                 AND declaration_type = 'import' AND transport_mode = 'air'
               ORDER BY 1"""
        ).fetchall()
    finally:
        con.close()
