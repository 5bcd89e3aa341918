"""What the DAGs' tasks call (dags/swpm_nightly.py, dags/swpm_intraday.py import it inside their
tasks, never at parse time): the run's context, the grouped load, each step with a result the
Airflow UI shows (a task's XCom), and the failure record.

A failed dbt node can be told from the UI without reading a log: the build task's XCom
``dbt_failures`` lists every failed node (name, kind, status, dbt's message), pushed before the
task fails; on success its result counts the nodes by status and names the slowest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging

from ingest.config import Home
from ingest.run.pipeline import RunContext
from ingest.run.schedule import LOCAL_TZ

DBT_FAILURES_XCOM = "dbt_failures"
# A step's log lines go to the task's log, each with its time (print would lose it).
LOG = logging.getLogger("swpm")
MESSAGE_CHARS = 500  # a node's message in the XCom: dbt's first lines say what broke


def run_context(run_id: str, logical_date, trigger: str = "airflow") -> RunContext:
    """The run's context: the same DAG run (and its retries) keeps one batch id."""
    day = logical_date.in_timezone(LOCAL_TZ) if logical_date else None
    stamp = day.strftime("%Y%m%d") if day else "manual"
    batch = f"{trigger}_{stamp}_{hashlib.sha256(run_id.encode()).hexdigest()[:10]}"
    return RunContext(Home.resolve(), batch, day.date() if day else None, trigger, log=LOG.info)


def record_failure(context) -> None:
    """A failed task marks the run failed in the warehouse's run log (swpm status shows it)."""
    from ingest.run.runlog import record_step

    trigger = "intraday" if context["dag"].dag_id == "swpm_intraday" else "airflow"
    dag_run = context.get("dag_run")
    moment = context.get("logical_date") or (dag_run.run_after if trigger == "intraday" and dag_run else None)
    ctx = run_context(context["run_id"], moment, trigger)
    record_step(ctx.home, ctx.batch_id, context["ti"].task_id, "failed", str(context.get("exception") or ""))


def discover(ctx: RunContext, kinds=None) -> list[dict]:
    """The run's new files, one group per source kind (``ingest.run.loading``)."""
    from ingest.run.loading import groups
    from ingest.run.runlog import record_step

    record_step(ctx.home, ctx.batch_id, "load", "running", logical_date=ctx.logical_date, trigger=ctx.trigger)
    found = groups(ctx.home, until=ctx.logical_date, kinds=kinds)
    ctx.log(
        f"{sum(len(g['files']) for g in found)} new file(s) in {len(found)} group(s): "
        + ", ".join(g["label"] for g in found)
    )
    return found


def load(group: dict, ctx: RunContext) -> dict:
    """One group's files, each loaded or quarantined on its own; the task is labelled with them."""
    from airflow.sdk import get_current_context

    from ingest.run.loading import load_group

    get_current_context()["load_label"] = group["label"]  # map_index_template="{{ load_label }}"
    return load_group(ctx.home, group, ctx.batch_id, ctx.log)


def dbt_summary(result) -> dict:
    """A dbt command's nodes for the UI: counts by status, the failed ones with their message,
    the slowest."""
    nodes = result.nodes
    by_status: dict[str, int] = {}
    for n in nodes:
        by_status[n["status"]] = by_status.get(n["status"], 0) + 1
    failed = [
        {
            "node": n["name"],
            "resource_type": n["resource_type"],
            "status": n["status"],
            "message": (n["message"] or "")[:MESSAGE_CHARS],
        }
        for n in result.failures
    ]
    slowest = sorted(nodes, key=lambda n: -n["seconds"])[:5]
    return {
        "command": result.command,
        "success": result.success,
        "nodes": len(nodes),
        "by_status": by_status,
        "failed": failed,
        "slowest": [{"node": n["name"], "seconds": n["seconds"]} for n in slowest],
    }


def summary(name: str, result) -> object:
    """A step's result as the task's XCom (JSON): what it did, in a few lines."""
    from ingest.run.dbt import DbtResult

    if isinstance(result, DbtResult):
        return dbt_summary(result)
    if name == "publish" and isinstance(result, dict):
        return {
            "snapshot_id": result.get("snapshot_id"),
            "marts": {m: v.get("rows") for m, v in result.get("marts", {}).items()},
        }
    if isinstance(result, list):  # the mart checks
        return [{"check": r.name, "success": r.success, "rows": r.rows} for r in result]
    if dataclasses.is_dataclass(result):
        warning = getattr(result, "warning", None)
        return {"warning": warning} if warning is not None else {"ok": True}
    return result if isinstance(result, dict | str | int | float | bool | type(None)) else str(result)


def push_dbt_failures(ti, exc: BaseException) -> None:
    """Before the task fails: the failed dbt nodes into its XCom, where the UI shows them."""
    result = getattr(exc, "result", None)
    if ti is not None and result is not None:
        ti.xcom_push(key=DBT_FAILURES_XCOM, value=dbt_summary(result)["failed"])


def run_step(name: str, ctx: RunContext, ti=None) -> object:
    """One step of ``ingest.run.steps.STEPS`` (``ingest.run.pipeline.run_step``), its summary as the result."""
    from ingest.run import pipeline
    from ingest.run.dbt import DbtFailed

    try:
        return summary(name, pipeline.run_step(name, ctx))
    except DbtFailed as exc:
        push_dbt_failures(ti, exc)
        raise


def run_intraday_step(name: str, ctx: RunContext, as_of, ti=None) -> object:
    """One step of ``ingest.run.steps.INTRADAY_STEPS`` (``ingest.run.intraday.run_step``)."""
    from ingest.run import intraday
    from ingest.run.dbt import DbtFailed

    try:
        return summary(name, intraday.run_step(name, ctx.home, ctx.batch_id, as_of))
    except DbtFailed as exc:
        push_dbt_failures(ti, exc)
        raise
