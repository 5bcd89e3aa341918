"""The intraday TRS refresh: load the new clearance files, rebuild ``trs_today`` (today's
releases so far per mode, channel and office, and the cargo still waiting), publish it.

It runs beside the nightly run, never instead of it: it builds only ``trs_today`` and what it
reads (the clearance staging tables and ``int_declaration_milestones``, which are incremental on
load time, so the next night still takes every new row into its marts), records no nightly dbt
build (the next night's tests still check every row loaded since the last night), and publishes
to its own files, ``serving/trs_today.duckdb`` and ``serving/trs_today.parquet``, so the nightly
snapshot is neither waited for nor touched. In Airflow both DAGs' warehouse tasks share one pool
slot (``ingest.run.schedule.WAREHOUSE_POOL``): two runs never write the warehouse at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable

from ingest.config import Home
from ingest.files import replacing
from ingest.run import dbt
from ingest.run.runlog import record_step
from ingest.run.steps import INTRADAY_STEP_NAMES
from ingest.warehouse import connect

CLEARANCE_KINDS = ("clearance_declarations", "clearance_events")
MODEL = "trs_today"
RELATION = "intraday.trs_today"
AS_OF_ENV = "SWPM_TODAY_AS_OF"  # read by dbt_project/macros/intraday.sql


def snapshot_path(home: Home):
    return home.serving / f"{MODEL}.duckdb"


def info_path(home: Home):
    return home.serving / f"{MODEL}.json"


def build_today(home: Home, as_of: dt.datetime) -> dbt.DbtResult:
    """``dbt build --select +trs_today`` as of ``as_of`` (Korea time, naive): the model, what it
    reads, and their tests. The tests of the clearance tables check the rows loaded since the
    last nightly build, as the next night's will."""
    with connect(home) as con:
        since = con.execute("SELECT max(loaded_through) FROM meta.dbt_builds").fetchone()[0]
    settings = {
        AS_OF_ENV: as_of.replace(microsecond=0).isoformat(sep=" "),
        "SWPM_TESTS_SINCE": since.isoformat(sep=" ") if since else "",
    }
    with dbt.environment(**settings):
        # Cautious: only the tests of the selected models, not those that also read a nightly mart.
        return dbt.run_dbt(home, "build", "--select", f"+{MODEL}", "--indirect-selection", "cautious")


def publish_today(home: Home, batch_id: str) -> dict:
    """``trs_today`` into ``serving/trs_today.duckdb`` (table ``trs_today``) and
    ``serving/trs_today.parquet``, each written beside and renamed into place, then
    ``serving/trs_today.json`` (what was published, when, as of when)."""
    import duckdb
    import pyarrow.parquet as pq

    home.ensure()
    with connect(home, read_only=True) as con:
        table = con.sql(
            f"SELECT * FROM {RELATION} ORDER BY transport_mode, channel, customs_office, grouping_set"
        ).arrow()
        if hasattr(table, "read_all"):
            table = table.read_all()
    as_of = table.column("as_of_at")[0].as_py() if table.num_rows else None
    digest = hashlib.sha256(table.to_pandas().to_csv(index=False).encode()).hexdigest()
    with replacing(home.serving / f"{MODEL}.parquet", sync=True) as tmp:
        pq.write_table(table, tmp)
    with replacing(snapshot_path(home), sync=True) as tmp:
        tmp.unlink(missing_ok=True)
        snap = duckdb.connect(str(tmp))
        try:
            snap.register("incoming", table)
            snap.execute(f"CREATE TABLE {MODEL} AS SELECT * FROM incoming")
            snap.execute("CHECKPOINT")
        finally:
            snap.close()
    info = {
        "mart": MODEL,
        "as_of": as_of.isoformat(sep=" ") if as_of else None,
        "published_at": dt.datetime.now(dt.UTC).isoformat(),
        "batch_id": batch_id,
        "rows": table.num_rows,
        "sha256": digest,
    }
    with replacing(info_path(home)) as tmp:
        tmp.write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def current(home: Home) -> dict | None:
    path = info_path(home)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


# What each step of ingest.run.steps.INTRADAY_STEPS does, given (home, batch id, as of).
ACTIONS: dict[str, Callable[[Home, str, dt.datetime], object]] = {
    "build_today": lambda home, batch, as_of: build_today(home, as_of),
    "publish_today": lambda home, batch, as_of: publish_today(home, batch),
}
if tuple(ACTIONS) != INTRADAY_STEP_NAMES:
    raise RuntimeError(f"ingest.run.intraday.ACTIONS {tuple(ACTIONS)} do not follow the steps {INTRADAY_STEP_NAMES}")


def run_step(name: str, home: Home, batch_id: str, as_of: dt.datetime) -> object:
    record_step(home, batch_id, name, "running")
    try:
        result = ACTIONS[name](home, batch_id, as_of)
    except Exception as exc:
        record_step(home, batch_id, name, "failed", str(exc))
        raise
    if name == INTRADAY_STEP_NAMES[-1]:
        record_step(home, batch_id, "done", "success", f"{MODEL} as of {as_of:%Y-%m-%d %H:%M}")
    return result


def run(home: Home, as_of: dt.datetime, batch_id: str, log: Callable[[str], None] = print) -> dict:
    """The whole intraday refresh without Airflow (``swpm today``): the same steps, in order."""
    from ingest.run.loading import groups, load_group

    home.ensure()
    record_step(home, batch_id, "load", "running", logical_date=as_of.date(), trigger="intraday")
    for group in groups(home, until=as_of.date(), kinds=CLEARANCE_KINDS):
        load_group(home, group, batch_id, log)
    result = {}
    for name in INTRADAY_STEP_NAMES:
        result[name] = run_step(name, home, batch_id, as_of)
    return result["publish_today"]
