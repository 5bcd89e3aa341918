"""Source freshness (ingest/run/freshness.py): after the build, `dbt source freshness` checks every
source's newest load (`_loaded_at`) against the window of its delivery rhythm. A stale source is
recorded in meta.source_freshness and named in the step's log line, the run log and `swpm status`;
it never stops the night. A fresh load reports nothing stale."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess

import duckdb
import pytest

from ingest.config import Home
from ingest.run import pipeline
from ingest.sample_world import clearance, usage
from ingest.sample_world.spec import SampleSpec
from tests.conftest import BIN

NIGHTS = (dt.date(2011, 6, 1), dt.date(2011, 6, 2))
USAGE = "usage.sw_usage_statistics"  # yearly: warn after 400 days


def _run(home: Home, night: dt.date):
    lines: list[str] = []
    summary = pipeline.run(home, night, log=lines.append, through="publish")
    return summary, [line for line in lines if line.startswith("freshness:")]


def _cli_status(home: Home, *args: str) -> str:
    env = dict(os.environ, SWPM_HOME=str(home.root))
    res = subprocess.run([str(BIN / "swpm"), "status", *args], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    return res.stdout


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Home:
    home = Home.resolve(tmp_path_factory.mktemp("freshness") / "home").ensure()
    clearance.generate(home.landing, NIGHTS[0], 1, 40, seed=5)
    usage.generate(SampleSpec(home.landing, NIGHTS[:1], 40, seed=5))  # the file of 2011, dated the first night
    return home


@pytest.fixture(scope="module")
def fresh_night(home):
    return _run(home, NIGHTS[0])


def test_a_fresh_load_reports_nothing_stale(home, fresh_night):
    summary, log = fresh_night
    assert summary.published
    report = summary.results["freshness"]
    status = {s.source: s.status for s in report.sources}
    assert status["clearance.clearance_events"] == status[USAGE] == "pass"
    assert status["kcs.kcs_import_declarations"] == "no data"  # never delivered: not stale
    assert report.stale == [] and report.warning is None
    assert len(log) == 1 and "stale" not in log[0]
    info = pipeline.status(home)
    assert info["stale_sources"] == []
    assert {s["source"] for s in info["source_freshness"]} == set(status)
    assert info["runs"][0]["status"] == "success" and info["runs"][0]["warnings"] is None
    assert "STALE" not in _cli_status(home)


def test_a_stale_source_is_named_everywhere_and_the_night_goes_on(home, fresh_night):
    # The usage statistics were last delivered 500 days ago; a new clearance night arrives.
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute("UPDATE raw.sw_usage_statistics SET _loaded_at = _loaded_at - INTERVAL 500 DAY")
    clearance.generate(home.landing, NIGHTS[1], 1, 40, seed=5)

    summary, log = _run(home, NIGHTS[1])

    assert summary.published  # checked and published all the same
    report = summary.results["freshness"]
    assert [s.source for s in report.stale] == [USAGE]
    (stale,) = report.stale
    assert stale.status == "warn" and stale.warn_after == "400 days" and stale.age_hours >= 500 * 24
    assert len(log) == 1 and USAGE in log[0] and "stale" in log[0]
    # The run log keeps the warning through the later steps; the run itself succeeded.
    info = pipeline.status(home)
    run = info["runs"][0]
    assert run["batch_id"] == summary.batch_id and run["status"] == "success"
    assert USAGE in run["warnings"]
    assert [s["source"] for s in info["stale_sources"]] == [USAGE]
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        recorded = con.execute(
            "SELECT status FROM meta.source_freshness WHERE batch_id = ? AND source = ?", [summary.batch_id, USAGE]
        ).fetchall()
    assert recorded == [("warn",)]
    text = _cli_status(home)
    assert f"STALE {USAGE}: last loaded" in text and "warn after 400 days" in text
    as_json = json.loads(_cli_status(home, "--json"))
    assert [s["source"] for s in as_json["stale_sources"]] == [USAGE]
    assert USAGE in as_json["runs"][0]["warnings"]
