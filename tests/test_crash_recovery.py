"""SIGKILL a real `swpm run` during load, dbt build and publish; the next run recovers by itself.

A crash point (ingest/crashpoints.py, env SWPM_PAUSE_AT) stops the process where the kill must
land. After each kill: the previous snapshot is still served, byte for byte. After the
recovery run: no row loaded twice, the manifest reconciles with raw, nothing left behind, and
the marts equal those of a clean run over the same files.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time

import duckdb
import pytest

from ingest.config import PUBLISHED_MARTS, Home
from ingest.run import pipeline
from ingest.sample_world.clearance import generate
from tests.conftest import BIN

DAYS = ["2006-01-01", "2006-01-02", "2011-06-01"]
PER_DAY = 60
SEED = 5
RUN_DATE = "2026-11-24"
# The report step is tested on its own (test_report.py); these tests look at the marts.
quiet = dict(log=lambda *_: None, through="publish")


def _land(home: Home, day: str) -> None:
    import datetime as dt

    generate(home.landing, dt.date.fromisoformat(day), 1, PER_DAY, seed=SEED)


def _served(home: Home) -> tuple[bytes, str]:
    return home.snapshot.read_bytes(), home.snapshot_info.read_text()


def mart_digests(db_path, exclude=("source_refreshed_at", "first_seen_at")) -> dict[str, str]:
    """sha256 of every mart's rows in a fixed order; the columns of when, not what, excluded: load
    time (source_refreshed_at) and when a breach was first seen (kpi_alerts.first_seen_at)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        out = {}
        for mart in PUBLISHED_MARTS:
            cols = [r[0] for r in con.execute(f'DESCRIBE "{mart}"').fetchall() if r[0] not in exclude]
            rows = con.execute(f'SELECT {", ".join(cols)} FROM "{mart}" ORDER BY ALL').fetchall()
            out[mart] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


def _kill_at(home: Home, point: str, tmp_path) -> None:
    marker = tmp_path / f"paused-{point.replace(':', '_')}"
    env = dict(os.environ, SWPM_HOME=str(home.root), SWPM_PAUSE_AT=point, SWPM_PAUSE_FILE=str(marker))
    # Publish points are reached by `swpm publish` alone: the marts are built by then.
    command = ["publish"] if point.startswith("publish:") else ["run", "--date", RUN_DATE]
    proc = subprocess.Popen([str(BIN / "swpm"), *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"never reached {point}: {proc.communicate()[0].decode()[-3000:]}")
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture(scope="module")
def crashed(tmp_path_factory):
    """A home with a served snapshot of day 1; then days 2 and 3 land and every crash point is
    hit in turn by a killed run, recording what a reader would have seen after each kill."""
    tmp = tmp_path_factory.mktemp("crash")
    home = Home.resolve(tmp / "home").ensure()
    _land(home, DAYS[0])
    pipeline.run(home, None, **quiet)
    before = _served(home)
    for day in DAYS[1:]:
        _land(home, day)
    seen = {}
    for point in ("load:before_commit", "build:after_first_model", "publish:before_swap"):
        if point == "publish:before_swap":
            pipeline.build(home)  # the killed build is redone, so publish has new marts to swap in
        _kill_at(home, point, tmp)
        seen[point] = _served(home) == before
        with duckdb.connect(str(home.warehouse), read_only=True) as con:
            seen[point + " files"] = con.execute(
                "SELECT count(*) FROM meta.file_manifest WHERE status = 'loaded'"
            ).fetchone()[0]
    _kill_at(home, "publish:mid_swap", tmp)
    seen["mid_swap_db"] = home.snapshot
    mid = duckdb.connect(str(home.snapshot), read_only=True)
    try:
        sid, marts = mid.execute("SELECT snapshot_id, marts_json FROM snapshot_info").fetchone()
        info = json.loads(marts)
        seen["mid_swap_consistent"] = all(
            mid.execute(f'SELECT count(*) FROM "{m}"').fetchone()[0] == info[m]["rows"] for m in info
        )
    finally:
        mid.close()
    seen["mid_swap_id"] = sid
    seen["mid_swap_json_lags"] = json.loads(home.snapshot_info.read_text())["snapshot_id"] != sid
    summary = pipeline.run(home, None, **quiet)
    return home, before, seen, summary


def test_a_kill_during_load_leaves_nothing_half_loaded_and_the_old_snapshot_served(crashed):
    home, _, seen, _ = crashed
    assert seen["load:before_commit"], "the served snapshot changed"
    # The killed transaction held the first new file: only day 1's two files are recorded.
    assert seen["load:before_commit files"] == 2


def test_a_kill_during_dbt_build_or_publish_keeps_the_old_snapshot_served(crashed):
    _, _, seen, _ = crashed
    assert seen["build:after_first_model"] and seen["publish:before_swap"]
    assert seen["build:after_first_model files"] == 6, "the run before the build kill loaded every file"


def test_a_kill_between_the_renames_serves_a_complete_snapshot(crashed):
    _, _, seen, _ = crashed
    assert seen["mid_swap_consistent"]


def test_the_next_run_finishes_a_swap_cut_between_its_renames(crashed):
    """Killed between the renames, snapshot.json (and parquet/) lagged marts.duckdb; the next run
    finishes the swap (the new files were written before it) instead of leaving them apart."""
    from ingest.run import publish as publisher

    home, _, seen, summary = crashed
    assert seen["mid_swap_json_lags"]
    assert json.loads(home.snapshot_info.read_text())["snapshot_id"] == seen["mid_swap_id"]
    assert os.readlink(home.serving / "parquet") == f"snapshots/{seen['mid_swap_id']}/parquet"
    assert publisher.is_consistent(home)
    # The killed publish had built from everything loaded: once finished, the run has nothing to do.
    assert summary.skipped_reason == "snapshot already current"


def test_the_next_run_recovers_with_no_duplicates_and_nothing_left_behind(crashed):
    home, before, _, summary = crashed
    assert _served(home) != before
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        m = con.execute(
            "SELECT count(*), sum(rows_landed), sum(rows_loaded), sum(rows_quarantined) FROM meta.file_manifest"
        ).fetchone()
        assert m[0] == 6 and m[1] == m[2] + m[3] and m[3] == 0
        raw = 0
        for kind in ("clearance_declarations", "clearance_events"):
            n, distinct = con.execute(
                f"SELECT count(*), count(DISTINCT (_source_file, _source_sha256, _source_line)) FROM raw.{kind}"
            ).fetchone()
            assert n == distinct, f"raw.{kind} holds a row twice"
            raw += n
        assert raw == m[2]
        assert (
            con.execute(
                "SELECT count(*) - count(DISTINCT declaration_id) FROM intermediate.int_declaration_milestones"
            ).fetchone()[0]
            == 0
        )
    leftovers = [p.name for p in home.serving.iterdir() if p.name.endswith((".part", ".link")) or ".part" in p.name]
    assert leftovers == [], leftovers
    assert len(list((home.serving / "snapshots").iterdir())) <= 2
    assert pipeline.is_published_current(home)


def test_the_recovered_marts_equal_a_clean_run(crashed, tmp_path):
    home, _, _, _ = crashed
    clean = Home.resolve(tmp_path / "clean").ensure()
    for f in home.landing.iterdir():
        (clean.landing / f.name).write_bytes(f.read_bytes())
    pipeline.run(clean, None, **quiet)
    assert mart_digests(home.snapshot) == mart_digests(clean.snapshot)


def test_the_snapshot_holds_no_identifiers_of_declarations_or_traders(crashed):
    """Identifier columns of every contract (pseudonymised ones and *_id) never reach the
    snapshot, neither as columns nor as values."""
    from ingest.landing.contracts import load_contracts

    home, _, _, _ = crashed
    identifiers: set[str] = set()
    names: set[str] = set()
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        for contract in load_contracts().values():
            for col in contract.columns:
                if col.pseudonymise or col.name.lower().endswith("_id"):
                    names.add(col.name.lower())
                    identifiers |= {
                        r[0]
                        for r in con.execute(
                            f'SELECT DISTINCT CAST("{col.name}" AS VARCHAR) FROM {contract.raw_table} LIMIT 5000'
                        ).fetchall()
                    }
    assert identifiers
    snap = duckdb.connect(str(home.snapshot), read_only=True)
    try:
        for mart in PUBLISHED_MARTS:
            described = snap.execute(f'DESCRIBE "{mart}"').fetchall()
            assert not names & {c[0].lower() for c in described}, mart
            for column in [c[0] for c in described if c[1] == "VARCHAR"]:
                values = {r[0] for r in snap.execute(f'SELECT DISTINCT "{column}" FROM "{mart}"').fetchall()}
                assert not values & identifiers, (mart, column)
    finally:
        snap.close()


@pytest.fixture
def published_once(home):
    """A warehouse with one small mart, published once (no dbt needed for publish's failure paths)."""
    from ingest.run import publish as publisher
    from ingest.warehouse import connect

    with connect(home) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute("CREATE TABLE marts.m AS SELECT range AS period_type, range * 2 AS v FROM range(50)")
    first = publisher.publish(home, "b1", marts=("m",))
    with connect(home) as con:
        con.execute("INSERT INTO marts.m VALUES (99, 1)")
    return home, first


def _served_state(home):
    return (home.snapshot.read_bytes(), home.snapshot_info.read_text(), os.readlink(home.serving / "parquet"))


@pytest.mark.parametrize(
    "fault",
    [
        "disk full while writing the DuckDB snapshot",
        "read-only serving folder",
        "disk full while writing snapshot.json",
    ],
)
def test_disk_full_or_read_only_serving_fails_loudly_and_keeps_the_old_snapshot(published_once, monkeypatch, fault):
    import builtins
    import errno

    from ingest.run import publish as publisher

    home, first = published_once
    before = _served_state(home)
    if fault.startswith("disk full while writing the DuckDB"):
        real_connect = duckdb.connect

        def connect(path, *a, **kw):
            if ".part" in str(path):
                raise duckdb.IOException(f'Could not write file "{path}": No space left on device')
            return real_connect(path, *a, **kw)

        monkeypatch.setattr(publisher.duckdb, "connect", connect)
    else:
        failing = ".publish.lock" if fault.startswith("read-only") else ".snapshot.json.part"
        code = errno.EROFS if fault.startswith("read-only") else errno.ENOSPC

        def guarded_open(path, *a, **kw):
            if str(path).endswith(failing):
                raise OSError(code, os.strerror(code), str(path))
            return builtins.open(path, *a, **kw)

        monkeypatch.setattr(publisher, "open", guarded_open, raising=False)
    with pytest.raises(publisher.PublishFailed, match="previous snapshot is still served") as info:
        publisher.publish(home, "b2", marts=("m",))
    assert str(home.serving) in str(info.value)
    assert _served_state(home) == before
    assert json.loads(home.snapshot_info.read_text())["snapshot_id"] == first["snapshot_id"]
    assert not [p for p in home.serving.iterdir() if ".part" in p.name or p.name.endswith(".link")]
    assert [p.name for p in (home.serving / "snapshots").iterdir()] == [first["snapshot_id"]]
    monkeypatch.undo()
    assert publisher.publish(home, "b3", marts=("m",))["marts"]["m"]["rows"] == 51, "the next publish works"
