"""The dbt tests of the big clearance tables check the rows loaded since the last successful
build, not the whole history (dbt_project/macros/incremental.sql; at a real year that is the
difference between seconds and minutes a night). A bad row that comes tonight still fails
tonight's build, a failed build leaves no gap (the next one checks the same rows again), and a
full refresh checks every row."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest

from ingest.config import Home
from ingest.run import pipeline
from ingest.run.dbt import DbtFailed
from ingest.sample_world.clearance import generate

DAY = dt.date(2011, 6, 1)
MILESTONE_TEST = "accepted_values_stg_clearance__events_milestone"


def _compiled_test_sql(home: Home) -> str:
    """The SQL dbt ran for one of the scoped tests (long test names become hashes in file names)."""
    compiled = home.warehouse_dir / "dbt" / "target" / "compiled" / "swpm"
    return next(compiled.rglob("unique_stg_clearance__events_event_id.sql")).read_text()


def test_night_tests_new_rows_a_failure_leaves_no_gap_and_full_refresh_tests_all(tmp_path):
    home = Home.resolve(tmp_path / "home").ensure()
    generate(tmp_path / "files", DAY, 1, 40, seed=5)
    for f in (tmp_path / "files").iterdir():
        shutil.copy2(f, home.landing / f.name)
    pipeline.load(home, "night-1")
    pipeline.build(home)
    assert "'-infinity'::timestamp" in _compiled_test_sql(home)  # the first build tests every row
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        ((tested_through,),) = con.execute("SELECT loaded_through FROM meta.dbt_builds").fetchall()

    # The unique test DuckDB runs (hashes first, dbt_project/macros/unique_test.sql) finds a
    # repeated value, with its count, and nothing else.
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute("BEGIN")
        repeated_id = con.execute("""
            INSERT INTO staging.stg_clearance__events SELECT * FROM staging.stg_clearance__events LIMIT 1
            RETURNING event_id""").fetchone()[0]
        assert con.execute(_compiled_test_sql(home)).fetchall() == [(repeated_id, 2)]
        con.execute("ROLLBACK")

    # A row that got past the door (written straight into raw), loaded "tonight".
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute("""
            INSERT INTO raw.clearance_events
            SELECT event_id || 'X', declaration_id, 'TELEPORT', event_time, NULL,
                   'hand_written.csv', 'sha', 99, 'night-2', now()::timestamp
            FROM raw.clearance_events LIMIT 1""")
    with pytest.raises(DbtFailed, match=MILESTONE_TEST):
        pipeline.build(home)
    # Scoped to the rows after the last successful build, by the time it recorded.
    assert f"_loaded_at > '{tested_through.isoformat(sep=' ')}'::timestamp" in _compiled_test_sql(home)

    # The failed build recorded nothing: the next night checks the same rows again.
    with pytest.raises(DbtFailed, match=MILESTONE_TEST):
        pipeline.build(home)
    with duckdb.connect(str(home.warehouse)) as con:
        assert con.execute("SELECT count(*) FROM meta.dbt_builds").fetchone()[0] == 1
        con.execute("DELETE FROM raw.clearance_events WHERE _source_file = 'hand_written.csv'")

    # A full refresh rebuilds staging from raw and tests every row.
    pipeline.build(home, full_refresh=True)
    assert "'-infinity'::timestamp" in _compiled_test_sql(home)
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        assert (
            con.execute("SELECT count(*) FROM staging.stg_clearance__events WHERE milestone = 'teleport'").fetchone()[0]
            == 0
        )
        assert con.execute("SELECT count(*) FROM meta.dbt_builds").fetchone()[0] == 2
