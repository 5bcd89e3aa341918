"""A BI reader querying serving/marts.duckdb read-only while a nightly run loads, builds and
publishes never sees a half-published state and is never blocked."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import time

import duckdb

from ingest.run import pipeline

# Another process, as a BI tool is: open, read every mart, compare with the snapshot's own
# manifest, close; over and over until told to stop.
READER = r"""
import duckdb, json, os, sys, time
path, stop, out = sys.argv[1:4]
seen, errors = [], []
while not os.path.exists(stop):
    try:
        con = duckdb.connect(path, read_only=True)
        try:
            sid, marts = con.execute("SELECT snapshot_id, marts_json FROM snapshot_info").fetchone()
            manifest = {m: v["rows"] for m, v in json.loads(marts).items()}
            counts = {m: con.execute(f'SELECT count(*) FROM "{m}"').fetchone()[0] for m in manifest}
            total = con.execute("SELECT sum(declarations) FROM trs_release_time "
                                "WHERE period_type = 'year' AND grouping_set = 'period'").fetchone()[0]
        finally:
            con.close()
        seen.append({"snapshot": sid, "manifest": manifest, "counts": counts, "declarations": int(total),
                     "at": time.time()})
    except Exception as exc:
        errors.append(repr(exc))
    time.sleep(0.1)  # a dashboard's pace; a tighter loop only takes a core from the night
json.dump({"seen": seen, "errors": errors}, open(out, "w"))
"""


def test_concurrent_reader_never_sees_a_half_published_state(home, sample_landing, tmp_path):
    def night(prefix):
        for f in sample_landing.glob(f"*_{prefix}*.csv.gz"):
            shutil.copy2(f, home.landing / f.name)

    night("2006")
    first = pipeline.run(home, dt.date(2026, 1, 1), log=lambda _: None, through="publish").published
    stop, out = tmp_path / "stop", tmp_path / "reader.json"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(home.snapshot), str(stop), str(out)])
    try:
        time.sleep(1.0)
        run_started = time.time()
        night("2011")  # a second night: load, dbt build (the warehouse writer lock), publish
        second = pipeline.run(home, dt.date(2026, 1, 2), log=lambda _: None, through="publish").published
        run_ended = time.time()
        ids = [second["snapshot_id"]]
        for _ in range(4):  # more swaps while the reader reads
            ids.append(pipeline.publish(home, "again")["snapshot_id"])
        time.sleep(0.5)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    result = json.loads(out.read_text())

    assert result["errors"] == []
    seen = result["seen"]
    assert len(seen) > 20
    for s in seen:  # every table of one snapshot, never a mix
        assert s["counts"] == s["manifest"], s
    by_id = {}
    for s in seen:
        by_id.setdefault(s["snapshot"], set()).add((json.dumps(s["counts"], sort_keys=True), s["declarations"]))
    assert all(len(v) == 1 for v in by_id.values()), by_id
    assert set(by_id) <= {first["snapshot_id"], *ids}
    assert len(by_id) >= 2, "the reader should have crossed at least one swap"
    # Before the second night's publish: the first snapshot (two nights of 400); after: all four.
    assert {d for ((_, d),) in by_id.values()} <= {800, 1600}
    assert next(iter(by_id[first["snapshot_id"]]))[1] == 800
    during = [s for s in seen if run_started < s["at"] < run_ended]
    assert len(during) > 10, "the reader kept reading while the night's load and build ran"
    assert all(s["snapshot"] in (first["snapshot_id"], second["snapshot_id"]) for s in during)
    con = duckdb.connect(str(home.snapshot), read_only=True)
    try:
        assert con.execute("SELECT snapshot_id FROM snapshot_info").fetchone()[0] == ids[-1]
    finally:
        con.close()


def test_a_marts_digest_is_of_its_rows_not_their_chunks():
    """snapshot.json's digests: the same rows in other chunks hash the same; a changed value,
    or an empty string where a null was, does not."""
    import pyarrow as pa

    from ingest.run.publish import data_columns, table_digest

    rows = {
        "period_start": [dt.date(2020, 1, 1), dt.date(2020, 2, 1), None],
        "channel": ["green", None, "red"],
        "median_hours": [1.25, 0.1 + 0.2, None],
        "declarations": [3, 40, 500],
        "source_refreshed_at": [dt.datetime(2026, 1, 1, 3)] * 3,
    }
    table = pa.table(rows)
    chunked = pa.concat_tables([table.slice(0, 1), table.slice(1, 2)])
    assert chunked.column(0).num_chunks == 2
    assert table_digest(chunked) == table_digest(table)
    assert table_digest(table.set_column(1, "channel", pa.array(["green", "", "red"]))) != table_digest(table)
    assert table_digest(table.set_column(2, "median_hours", pa.array([1.25, 0.3, None]))) != table_digest(table)
    # Full precision: 0.1 + 0.2 is not 0.3.
    later = table.set_column(4, "source_refreshed_at", pa.array([dt.datetime(2026, 1, 2, 3)] * 3))
    assert table_digest(later) != table_digest(table)
    assert table_digest(later, data_columns(later.column_names)) == table_digest(
        table, data_columns(table.column_names)
    )
