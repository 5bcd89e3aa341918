"""The intraday refresh without Airflow (``swpm today``, the steps dags/swpm_intraday.py runs), and
the grouped load both DAGs map over. Under the real scheduler: tests/test_scheduler_intraday.py."""

from __future__ import annotations

import datetime as dt
import json
import shutil

from tests.trs_reference import assert_today_matches, today_stats

AS_OF = dt.datetime(2011, 6, 2, 12, 0)  # noon of the sample's last day, Korea time


def test_trs_today_is_published_beside_the_nightly_snapshot(built_home, sample_landing):
    """``trs_today`` (with its unit test) as of noon, published to its own files: equal to an
    independent computation, and neither the nightly snapshot nor the nightly build log touched."""
    import duckdb

    from ingest.run import intraday

    con = duckdb.connect(str(built_home.warehouse), read_only=True)
    builds = con.execute("SELECT count(*) FROM meta.dbt_builds").fetchone()[0]
    con.close()
    info = intraday.run(built_home, AS_OF, "today_test", log=lambda *_: None)
    assert info["as_of"] == "2011-06-02 12:00:00" and info["rows"] > 1
    assert json.loads((built_home.serving / "trs_today.json").read_text()) == info
    assert_today_matches(intraday.snapshot_path(built_home), today_stats(sample_landing, AS_OF))
    assert (built_home.serving / "trs_today.parquet").exists()
    assert not built_home.snapshot.exists()  # the nightly snapshot is the nightly's alone
    con = duckdb.connect(str(built_home.warehouse), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM meta.dbt_builds").fetchone()[0] == builds
        step, status = con.execute("SELECT step, status FROM meta.runs WHERE batch_id = 'today_test'").fetchone()
    finally:
        con.close()
    assert (step, status) == ("done", "success")


def test_the_load_groups_files_by_source_kind_and_keeps_each_outcome(home, sample_landing):
    """One group per source kind, labelled by its files; each file loaded or quarantined on its
    own, with its manifest entry; a second try skips what the first recorded."""
    from ingest.run.loading import groups, load_group

    for f in sorted(sample_landing.glob("clearance_*_2006010[12].csv.gz")):
        shutil.copy2(f, home.landing / f.name)
    (home.landing / "clearance_events_20060103.csv.gz").write_bytes(b"not gzip")
    (home.landing / "mystery_20060101.csv").write_text("a,b\n1,2\n")
    found = groups(home)
    by_kind = {g["source_kind"]: g for g in found}
    assert sorted(by_kind) == ["clearance_declarations", "clearance_events", "unclaimed"]
    assert by_kind["clearance_declarations"]["label"] == (
        "clearance_declarations: 2 files, clearance_declarations_20060101.csv.gz .. clearance_declarations_20060102.csv.gz"
    )
    assert by_kind["unclaimed"]["label"] == "mystery_20060101.csv"
    results = [load_group(home, g, "b1", log=lambda *_: None) for g in found]
    outcomes = {o["file"]: o for r in results for o in r["outcomes"]}
    assert outcomes["clearance_events_20060103.csv.gz"]["status"] == "quarantined"
    assert outcomes["mystery_20060101.csv"]["reason_code"] == "unknown_source"
    assert sum(o["status"] == "loaded" for o in outcomes.values()) == 4
    assert (home.quarantine / "clearance_events_20060103.csv.gz.reason.json").exists()
    again = load_group(home, by_kind["clearance_declarations"], "b1", log=lambda *_: None)  # a task's retry
    assert again["skipped"] == 2 and again["loaded"] == 0
    assert groups(home) == []
