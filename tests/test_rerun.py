"""Re-runs and late data: the same day three times gives byte-identical marts; a file that
arrives late for a past day is taken by the next night, whose marts then equal a run that had
every file from the start."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil

import duckdb
import pytest

from ingest.config import PUBLISHED_MARTS, Home
from ingest.run import pipeline
from ingest.sample_world.clearance import generate
from tests.test_crash_recovery import mart_digests

DAYS = [dt.date(2006, 1, 1), dt.date(2006, 1, 2), dt.date(2011, 6, 1)]
PER_DAY = 60
SEED = 9
# The report step is tested on its own (test_report.py); these tests look at the marts.
quiet = dict(log=lambda *_: None, through="publish")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    landing = tmp_path_factory.mktemp("rerun") / "landing"
    for day in DAYS:
        generate(landing, day, 1, PER_DAY, seed=SEED)
    return landing


@pytest.fixture(scope="module")
def complete(tmp_path_factory, files):
    """One night with every file from the start: (its home, what it published, its mart digests).
    The re-runs start from a copy of it; the late-file run must end equal to it."""
    home = _home(tmp_path_factory.mktemp("complete"), files, DAYS)
    pipeline.run(home, dt.date(2011, 6, 2), **quiet)
    return home, _published(home), mart_digests(home.snapshot)


def _home(tmp_path, files, days) -> Home:
    home = Home.resolve(tmp_path / "home").ensure()
    for day in days:
        for f in files.glob(f"*_{day:%Y%m%d}.csv.gz"):
            shutil.copy2(f, home.landing / f.name)
    return home


def _published(home: Home) -> dict:
    """Digest of every mart as published, and of its Parquet file's bytes."""
    info = json.loads(home.snapshot_info.read_text())
    return {
        m: (
            info["marts"][m]["sha256"],
            info["marts"][m]["rows"],
            hashlib.sha256((home.serving / "parquet" / f"{m}.parquet").read_bytes()).hexdigest(),
        )
        for m in PUBLISHED_MARTS
    }


def test_the_same_day_three_times_gives_byte_identical_marts(tmp_path, complete):
    shutil.copytree(complete[0].root, tmp_path / "home", symlinks=True)
    home = Home.resolve(tmp_path / "home")
    night = dt.date(2011, 6, 2)
    first = complete[1]
    assert _published(home) == first
    # Again, rebuilt from scratch (dbt --full-refresh) and published again.
    pipeline.build(home, full_refresh=True)
    pipeline.publish(home, "rerun-2")
    second = _published(home)
    # And once more after the serving folder was lost: the run notices and republishes.
    shutil.rmtree(home.serving)
    summary = pipeline.run(home, night, **quiet)
    assert summary.published
    third = _published(home)
    assert first == second == third
    # The marts the clearance logs feed hold rows (the other sources' marts are empty here).
    assert all(first[m][1] > 0 for m in ("trs_release_time", "trs_segment_time", "cs_inspection_performance"))


def test_a_late_file_is_taken_by_the_next_night_and_its_periods_recomputed(tmp_path, files, complete):
    late_day = DAYS[1]
    home = _home(tmp_path / "late", files, [DAYS[0], DAYS[2]])
    pipeline.run(home, dt.date(2011, 6, 1), **quiet)
    before = _period_counts(home)
    for f in files.glob(f"*_{late_day:%Y%m%d}.csv.gz"):  # a week late, for a day long past
        shutil.copy2(f, home.landing / f.name)
    summary = pipeline.run(home, dt.date(2011, 6, 8), **quiet)
    assert {o.file_name for o in summary.outcomes} == {f.name for f in files.glob(f"*_{late_day:%Y%m%d}.csv.gz")}
    after = _period_counts(home)
    # The late day's declarations joined their (past) periods; 2011 did not move.
    years = lambda counts: sum(n for (t, p), n in counts.items() if t == "year" and p.year < 2011)  # noqa: E731
    assert years(after) == years(before) + PER_DAY
    assert after[("month", dt.date(2006, 1, 1))] > before[("month", dt.date(2006, 1, 1))]
    assert after[("year", dt.date(2011, 1, 1))] == before[("year", dt.date(2011, 1, 1))]
    # The same marts as a warehouse that had every file from the start.
    assert mart_digests(home.snapshot) == complete[2]


def _period_counts(home: Home) -> dict:
    con = duckdb.connect(str(home.snapshot), read_only=True)
    try:
        return {
            (t, p): n
            for t, p, n in con.execute(
                "SELECT period_type, period_start, declarations FROM trs_release_time WHERE grouping_set = 'period'"
            ).fetchall()
        }
    finally:
        con.close()
