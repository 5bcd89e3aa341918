"""The intraday DAG under the real scheduler (the session's deployment, tests/scheduler_harness.py):
a clearance drop of the morning lands mid-day; the intraday run loads it and publishes
``trs_today`` as of noon, which equals an independent computation from the landed files; a
nightly run triggered at the same moment is neither blocked nor waited for, and no two
warehouse tasks of the two runs ever ran at once (the shared pool's one slot).

Marker `scheduler` (`make test-airflow`): never part of `make test`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json

import duckdb
import pandas as pd
import pytest

from ingest.config import PUBLISHED_MARTS
from ingest.files import replacing
from tests.conftest import SAMPLE_PER_DAY, SAMPLE_SEED
from tests.scheduler_harness import RUN_TIMEOUT
from tests.trs_reference import assert_today_matches, today_stats

INTRADAY, NIGHTLY = "swpm_intraday", "swpm_nightly"
DAY = dt.date(2011, 6, 7)
NOON = dt.datetime(2011, 6, 7, 12, 0)  # Korea time, as the logs
WAITING_DAYS = 30  # dbt var trs_today_waiting_days


def drop_the_morning(landing, tmp_path) -> list[str]:
    """The day's clearance drop as the system would export it at noon: the events logged by then,
    and the declarations they belong to."""
    from ingest.sample_world.clearance import generate

    full = tmp_path / "full"
    generate(full, DAY, 1, SAMPLE_PER_DAY, seed=SAMPLE_SEED)
    stamp = DAY.strftime("%Y%m%d")
    events = pd.read_csv(full / f"clearance_events_{stamp}.csv.gz", dtype=str, keep_default_na=False)
    events = events[pd.to_datetime(events.event_time) <= NOON]
    declarations = pd.read_csv(full / f"clearance_declarations_{stamp}.csv.gz", dtype=str, keep_default_na=False)
    declarations = declarations[declarations.declaration_id.isin(events.declaration_id)]
    names = []
    for kind, frame in (("events", events), ("declarations", declarations)):  # events first, as the system does
        name = f"clearance_{kind}_{stamp}.csv.gz"
        with replacing(landing / name) as tmp:
            tmp.write_bytes(gzip.compress(frame.to_csv(index=False).encode()))
        names.append(name)
    return names


@pytest.fixture(scope="module")
def midday(scheduler, tmp_path_factory):
    """The morning's drop lands; at that moment the intraday run for noon and a nightly run are
    triggered together."""
    for dag_id in (INTRADAY, NIGHTLY):
        scheduler.set_paused(dag_id, False)  # (already unpaused when tests/test_scheduler.py ran first)
    served = scheduler.home.snapshot_info.read_text() if scheduler.home.snapshot_info.exists() else None
    names = drop_the_morning(scheduler.home.landing, tmp_path_factory.mktemp("midday"))
    scheduler.trigger(INTRADAY, "midday_20110607", NOON.strftime("%Y-%m-%dT%H:%M:%S+09:00"))
    scheduler.trigger(NIGHTLY, "beside_20110607", f"{DAY.isoformat()}T00:00:00+09:00")
    # The two runs take the warehouse pool's one slot in turn: the later one waits for the other.
    runs = {
        dag_id: scheduler.wait_run(dag_id, run_id, timeout=2 * RUN_TIMEOUT)
        for dag_id, run_id in ((INTRADAY, "midday_20110607"), (NIGHTLY, "beside_20110607"))
    }
    return names, runs, served


def test_the_intraday_run_loads_the_drop_and_publishes_trs_today(scheduler, midday):
    names, runs, _ = midday
    assert runs[INTRADAY]["state"] == "success", scheduler.describe(INTRADAY, "midday_20110607")
    info = json.loads((scheduler.home.serving / "trs_today.json").read_text())
    assert info["as_of"] == "2011-06-07 12:00:00"
    events = scheduler.asset_events(INTRADAY, "midday_20110607")
    assert [e["name"] for e in events] == ["swpm.intraday.trs_today"]
    # The drop was loaded once, by whichever run found it first.
    con = duckdb.connect(str(scheduler.home.warehouse), read_only=True)
    try:
        recorded = con.execute(
            "SELECT file_name, count(*) FROM meta.file_manifest WHERE file_name IN (SELECT unnest($n)) GROUP BY 1",
            {"n": names},
        ).fetchall()
    finally:
        con.close()
    assert sorted(recorded) == sorted((n, 1) for n in names)


def test_trs_today_equals_an_independent_computation(scheduler, midday):
    expected = today_stats(scheduler.home.landing, NOON, WAITING_DAYS)
    assert expected.loc["ALL", "released"] > 0 and expected.loc["ALL", "waiting"] > 0, expected
    assert_today_matches(scheduler.home.serving / "trs_today.duckdb", expected)


def test_the_nightly_run_beside_it_is_not_blocked_and_keeps_its_own_snapshot(scheduler, midday):
    _, runs, served = midday
    assert runs[NIGHTLY]["state"] == "success", scheduler.describe(NIGHTLY, "beside_20110607")
    snapshot = json.loads(scheduler.home.snapshot_info.read_text())
    assert "trs_today" not in snapshot["marts"] and set(snapshot["marts"]) == set(PUBLISHED_MARTS)
    if served is not None:  # the night published the morning's drop into the nightly snapshot
        assert snapshot["snapshot_id"] != json.loads(served)["snapshot_id"]


def test_two_runs_never_open_the_warehouse_at_once(scheduler, midday):
    """Every task of both DAGs takes the warehouse pool's one slot: no two ran at the same time."""
    spans = []
    for dag_id, run_id in ((INTRADAY, "midday_20110607"), (NIGHTLY, "beside_20110607")):
        for ti in scheduler.task_instances(dag_id, run_id):
            assert ti["pool"] == "swpm_warehouse", ti
            if ti["start_date"] and ti["end_date"] and ti["state"] == "success":
                start, end = (dt.datetime.fromisoformat(ti[k]) for k in ("start_date", "end_date"))
                spans.append((start, end, f"{dag_id}.{ti['task_id']}[{ti['map_index']}]"))
    spans.sort()
    assert {s[2].split(".")[0] for s in spans} == {INTRADAY, NIGHTLY}
    for (_, end, name), (start, _, after) in zip(spans, spans[1:]):
        assert end <= start, f"{name} (until {end}) overlapped {after} (from {start})"
