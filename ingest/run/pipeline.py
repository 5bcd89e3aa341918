"""The nightly run's steps, in order: the one list that both the Airflow DAG (one task per step)
and ``swpm run`` follow, so the two cannot drift.

    load (every new file; one mapped task per file in the DAG) -> changes pending?
    -> build (dbt) -> freshness (dbt source freshness, warn only) -> alerts (kpi_alerts into the
    alert log, one digest of the new breaches) -> check (GX on the marts) -> publish (snapshot)
    -> report

Each step is safe to repeat: loads are idempotent per file, dbt models are incremental on load
time, publishing is an atomic swap and the report is rewritten from the snapshot. Every step
records itself in the run log (``meta.runs``, shown by ``swpm status``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ingest.config import Home
from ingest.run import alerts, dbt, freshness
from ingest.run import publish as publisher
from ingest.run.lock import home_lock
from ingest.run.recover import recover
from ingest.run.runlog import new_batch_id, record_step, status
from ingest.run.steps import STEP_NAMES, STEPS
from ingest.warehouse import connect

if TYPE_CHECKING:  # these import Great Expectations (seconds): only when used
    from ingest.landing.outcome import FileOutcome
    from ingest.run.mart_checks import CheckResult

__all__ = ["STEPS", "STEP_NAMES", "RunContext", "RunSummary", "new_batch_id", "record_step", "run", "status"]


class MartChecksFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class RunContext:
    home: Home
    batch_id: str
    logical_date: dt.date | None = None
    trigger: str = "cli"
    log: Callable[[str], None] = print  # a step's log lines (the Airflow task log, swpm run's output)


def load(
    home: Home,
    batch_id: str,
    until: dt.date | None = None,
    progress: Callable[[int, int, FileOutcome], None] | None = None,
) -> list[FileOutcome]:
    from ingest.landing.discover import discover
    from ingest.landing.load import load_files

    with home_lock(home, what="load", batch_id=batch_id):
        recover(home)
        files = discover(home, until=until)
        outcomes = []
        for i, outcome in enumerate(load_files(home, files, batch_id), 1):
            outcomes.append(outcome)
            if progress:
                progress(i, len(files), outcome)
    return outcomes


def is_published_current(home: Home) -> bool:
    """True when the served snapshot is whole (snapshot.json, Parquet and marts.duckdb one
    snapshot) and was built from everything the warehouse holds now."""
    snapshot = publisher.current_snapshot(home)
    if not snapshot or not home.warehouse.exists() or not publisher.is_consistent(home):
        return False
    with connect(home, read_only=True) as con:
        if snapshot.get("source") != publisher.warehouse_watermark(con):
            return False
        # ... and the marts in the warehouse were built from every recorded file (after a
        # rebuild that has not built yet, the manifest matches but the marts do not exist).
        built, recorded = con.execute(
            "SELECT (SELECT max(loaded_through) FROM meta.dbt_builds), (SELECT max(recorded_at) FROM meta.file_manifest)"
        ).fetchone()
        return built is not None and built >= recorded


def has_loaded_rows(home: Home) -> bool:
    if not home.warehouse.exists():
        return False
    with connect(home, read_only=True) as con:
        return bool(con.execute("SELECT count(*) FROM meta.file_manifest WHERE status = 'loaded'").fetchone()[0])


# Run even on a night the gate skips: a night with nothing new is when a source has stopped.
WATCH_STEPS = ("freshness", "alerts")


def skip_reason(ctx: RunContext) -> str | None:
    """The gate after the load: None when the steps after it have work to do; otherwise why
    not, and the run is recorded as skipped with that reason. First it finishes what a killed
    run left half done (ingest/run/recover.py), so the gate sees the home whole. A night skipped
    because the snapshot is current still checks source freshness and mails new alerts
    (WATCH_STEPS)."""
    with home_lock(ctx.home, what="changes pending", trigger=ctx.trigger, batch_id=ctx.batch_id, log=ctx.log):
        recover(ctx.home, log=ctx.log)
        reason = None
        if not has_loaded_rows(ctx.home):
            reason = "nothing loaded yet"
        elif is_published_current(ctx.home):
            reason = "snapshot already current"
    if reason == "snapshot already current":
        for name in WATCH_STEPS:
            run_step(name, ctx, last="")
    if reason:
        record_step(ctx.home, ctx.batch_id, "done", "skipped", reason)
    return reason


def build(home: Home, full_refresh: bool = False, unit_tests: bool = False) -> dbt.DbtResult:
    return dbt.build(home, full_refresh=full_refresh, unit_tests=unit_tests)


def check(home: Home) -> list[CheckResult]:
    from ingest.run import mart_checks

    results = mart_checks.check_marts(home)
    failed = [r for r in results if not r.success]
    if failed:
        lines = [
            f"{r.name}: "
            + "; ".join(
                f"{f.expectation} {f.column or ''} {f.unexpected_count or ''} {f.examples or f.detail}"
                for f in r.failures
            )
            for r in failed
        ]
        raise MartChecksFailed("mart checks failed, snapshot not published (see serving/docs/gx): " + " | ".join(lines))
    return results


def publish(home: Home, batch_id: str) -> dict:
    return publisher.publish(home, batch_id)


def report(home: Home) -> dict:
    from ingest.serving import report as reporting

    return {"dbt_docs": str(reporting.publish_dbt_docs(home)), "report": str(reporting.build_report(home))}


# What each step of ingest.run.steps.STEPS does.
ACTIONS: dict[str, Callable[[RunContext], Any]] = {
    "build": lambda ctx: build(ctx.home),
    "freshness": lambda ctx: freshness.check(ctx.home, ctx.batch_id, log=ctx.log),
    "alerts": lambda ctx: alerts.run(ctx.home, ctx.batch_id, ctx.logical_date, log=ctx.log),
    "check": lambda ctx: check(ctx.home),
    "publish": lambda ctx: publish(ctx.home, ctx.batch_id),
    "report": lambda ctx: report(ctx.home),
}
if tuple(ACTIONS) != STEP_NAMES:  # the order is the step list's; every step has its action
    raise RuntimeError(f"ingest.run.pipeline.ACTIONS {tuple(ACTIONS)} do not follow the steps {STEP_NAMES}")


def run_step(name: str, ctx: RunContext, last: str = STEP_NAMES[-1]) -> Any:
    """One step, recorded in the run log; the run's ``last`` step also records the run done."""
    if name not in ACTIONS:
        raise ValueError(f"no step {name!r}; the steps are {', '.join(STEP_NAMES)}")
    with home_lock(ctx.home, what=f"step {name}", trigger=ctx.trigger, batch_id=ctx.batch_id, log=ctx.log):
        return _run_step(name, ctx, last)


def _run_step(name: str, ctx: RunContext, last: str) -> Any:
    record_step(ctx.home, ctx.batch_id, name, "running")
    try:
        result = ACTIONS[name](ctx)
    except Exception as exc:
        record_step(ctx.home, ctx.batch_id, name, "failed", str(exc))
        raise
    # What a step warns about without failing (freshness: the stale sources) stays on the run.
    warning = getattr(result, "warning", None)
    if warning:
        record_step(ctx.home, ctx.batch_id, name, "warned", warning, warnings=warning)
    if name == last:
        snapshot = publisher.current_snapshot(ctx.home) or {}
        record_step(ctx.home, ctx.batch_id, "done", "success", f"snapshot {snapshot.get('snapshot_id')}")
    return result


@dataclass
class RunSummary:
    batch_id: str
    logical_date: dt.date | None
    outcomes: list = field(default_factory=list)
    results: dict = field(default_factory=dict)
    skipped_reason: str | None = None

    @property
    def built(self) -> bool:
        return "build" in self.results

    @property
    def published(self) -> dict | None:
        return self.results.get("publish")


def run(
    home: Home,
    logical_date: dt.date | None = None,
    trigger: str = "cli",
    progress=None,
    log: Callable[[str], None] = print,
    through: str = STEP_NAMES[-1],
) -> RunSummary:
    """Every step of the nightly run for ``logical_date`` (files whose data date is after it
    wait), up to and including ``through``, holding the home's writer lock throughout: a run
    that overlaps another waits for it (ingest/run/lock.py), then finds its files recorded."""
    if through not in STEP_NAMES:
        raise ValueError(f"no step {through!r}; the steps are {', '.join(STEP_NAMES)}")
    home.ensure()
    ctx = RunContext(home, new_batch_id(logical_date, trigger), logical_date, trigger, log)
    with home_lock(
        home, what=f"{'swpm' if trigger == 'cli' else trigger} run", trigger=trigger, batch_id=ctx.batch_id, log=log
    ):
        return _run(ctx, progress, through)


def _run(ctx: RunContext, progress, through: str) -> RunSummary:
    home, logical_date, log = ctx.home, ctx.logical_date, ctx.log
    summary = RunSummary(ctx.batch_id, logical_date)
    record_step(home, ctx.batch_id, "load", "running", logical_date=logical_date, trigger=ctx.trigger)
    try:
        summary.outcomes = load(home, ctx.batch_id, until=logical_date, progress=progress)
    except Exception as exc:
        with contextlib.suppress(Exception):  # e.g. a lost warehouse cannot record anything
            record_step(home, ctx.batch_id, "load", "failed", str(exc))
        raise
    loaded = sum(o.status == "loaded" for o in summary.outcomes)
    quarantined = sum(o.status == "quarantined" for o in summary.outcomes)
    log(f"load: {len(summary.outcomes)} new file(s), {loaded} loaded, {quarantined} quarantined")
    summary.skipped_reason = skip_reason(ctx)
    if summary.skipped_reason:
        watched = summary.skipped_reason == "snapshot already current"
        skipped = [n for n in STEP_NAMES if not (watched and n in WATCH_STEPS)]
        log(f"{', '.join(skipped)} skipped: {summary.skipped_reason}")
        return summary
    for current in STEPS:
        summary.results[current.name] = run_step(current.name, ctx, last=through)
        if current.name == through:
            break
    if summary.published:
        log(f"published snapshot {summary.published['snapshot_id']} to {home.serving}")
    return summary
