"""The same data gives the same marts, whatever order, batches, re-deliveries, killed runs or
overlapping runs it came through; and a lost warehouse is rebuilt to the same marts.

Home A is the session's ``published_world``: every file of a sample world of every source kind,
loaded in one run. Home B gets the same files another way:

1. the later half first (in its own run, built and published), with a copy of an early file
   under another name (it loads; its original is set aside later as a duplicate), a quiet day
   (a header-only service-request export: zero rows, loaded) and a header-only clearance log
   (quarantined: clearance logs have no quiet days);
2. then the earlier half, a truncated copy of an export, a file re-delivered under its own
   name and a copy under another name; a real ``swpm run`` is SIGKILLed while it sets the
   truncated file aside (recorded, not yet removed from landing/);
3. then two real ``swpm run`` processes a moment apart: the second waits for the first's writer
   lock, saying whom it waits for, and then finds nothing to do, while a reader keeps reading
   the snapshot.

B's published marts must equal A's, every column except load times. Then B's warehouse file
is deleted: ``swpm`` says so, and ``swpm rebuild`` rebuilds it to the very marts it had, load
times included.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time

import duckdb
import pytest

from ingest import cli
from ingest.config import PUBLISHED_MARTS, Home
from ingest.landing.archive import journal_records
from ingest.run import lock, pipeline
from ingest.run import publish as publisher
from tests.conftest import BIN

RUN_DATE = "2026-01-01"
SPLIT = "2009"  # files with an earlier data date come in the second batch
quiet = dict(log=lambda *_: None, through="publish")


def data_digests(db_path, columns=publisher.data_columns) -> dict[str, str]:
    """sha256 of every published mart's rows, every column but the load and run times
    (source_*_at, *_seen_at), in a fixed order, read from a snapshot file (independently of
    snapshot.json)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        out = {}
        for mart in PUBLISHED_MARTS:
            cols = [r[0] for r in con.execute(f'DESCRIBE "{mart}"').fetchall()]
            cols = [f'"{c}"' for c in columns(cols)]
            rows = con.execute(f'SELECT {", ".join(cols)} FROM "{mart}" ORDER BY ALL').fetchall()
            out[mart] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


def _data_date(name: str) -> str:
    return next(part for part in name.replace(".", "_").split("_") if part.isdigit() and len(part) == 8)


def _swpm(home: Home, *args: str, env_extra=None, **popen) -> subprocess.Popen:
    env = dict(os.environ, SWPM_HOME=str(home.root), **(env_extra or {}))
    return subprocess.Popen(
        [str(BIN / "swpm"), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen
    )


def _wait_for(predicate, what: str, proc: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"never {what}: {proc.communicate()[0][-3000:]}")
        time.sleep(0.1)


def _holder_pid(home: Home) -> int | None:
    holder = lock.current_holder(home)
    return holder.pid if holder else None


def _manifest(home: Home) -> list[tuple]:
    """meta.file_manifest: file_name, source_kind, sha256, size, data date, batch, status (6),
    rows landed, loaded, quarantined, reason_code (10), ..."""
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.execute("SELECT * FROM meta.file_manifest ORDER BY ALL").fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def two_homes(published_world, tmp_path_factory):
    a = published_world.home
    tmp = tmp_path_factory.mktemp("reliability")
    b = Home.resolve(tmp / "home").ensure()
    files = sorted(p for p in a.landing.iterdir() if p.is_file())
    early = [p for p in files if _data_date(p.name) < SPLIT]
    late = [p for p in files if _data_date(p.name) >= SPLIT]
    assert early and late
    seen: dict = {}

    # 1. The later half, a copy of an early file ahead of its original, a quiet day, a bad empty log.
    for p in late:
        shutil.copy2(p, b.landing / p.name)
    edoc = next(p for p in early if p.name.startswith("edoc_processing_log_"))
    shutil.copy2(edoc, b.landing / edoc.name.replace(_data_date(edoc.name), "20090105"))
    requests = next(p for p in late if p.name.startswith("itsm_service_requests_"))
    header = gzip.decompress(requests.read_bytes()).split(b"\n", 1)[0] + b"\n"
    (b.landing / "itsm_service_requests_unipass_20100704.csv.gz").write_bytes(gzip.compress(header, mtime=0))
    events = next(p for p in late if p.name.startswith("clearance_events_"))
    header = gzip.decompress(events.read_bytes()).split(b"\n", 1)[0] + b"\n"
    (b.landing / "clearance_events_20100705.csv.gz").write_bytes(gzip.compress(header, mtime=0))
    seen["first"] = pipeline.run(b, None, **quiet)
    seen["loaded_by_first"] = sum(r[6] == "loaded" for r in _manifest(b))

    # 2. The earlier half, a damaged export, re-deliveries; a run killed while it quarantines.
    for p in early:
        shutil.copy2(p, b.landing / p.name)
    incidents = next(p for p in early if p.name.startswith("itsm_incidents_"))
    damaged = b.landing / incidents.name.replace(_data_date(incidents.name), "20070615")
    damaged.write_bytes(incidents.read_bytes()[: incidents.stat().st_size // 2])
    usage = next(p for p in late if p.name.startswith("sw_usage_statistics_"))
    shutil.copyfile(usage, b.landing / usage.name)  # the same file again, under its name
    declarations = next(p for p in late if p.name.startswith("clearance_declarations_"))
    shutil.copy2(declarations, b.landing / declarations.name.replace(_data_date(declarations.name), "20100706"))
    marker = tmp / "paused"
    killed = _swpm(
        b,
        "run",
        "--date",
        RUN_DATE,
        env_extra={"SWPM_PAUSE_AT": "quarantine:before_unlink", "SWPM_PAUSE_FILE": str(marker)},
    )
    _wait_for(marker.exists, "reached quarantine:before_unlink", killed)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=30)
    seen["killed_rc"] = killed.returncode
    seen["damaged_left_in_landing"] = damaged.exists()
    seen["loaded_before_kill"] = sum(r[6] == "loaded" for r in _manifest(b))

    # 3. Two runs at once, a reader on the snapshot meanwhile.
    first = _swpm(b, "run", "--date", RUN_DATE, "--through", "publish")
    _wait_for(lambda: _holder_pid(b) == first.pid, "took the lock", first)
    second = _swpm(b, "run", "--date", RUN_DATE, "--through", "publish")
    reads = []
    while first.poll() is None:
        started = time.monotonic()
        con = duckdb.connect(str(b.snapshot), read_only=True)
        con.execute("SELECT count(*) FROM trs_release_time").fetchone()
        con.close()
        reads.append(time.monotonic() - started)
        time.sleep(0.05)
    seen["first_out"] = first.communicate(timeout=60)[0]
    seen["second_out"] = second.communicate(timeout=600)[0]
    seen["rcs"] = (first.returncode, second.returncode)
    seen["reads"] = reads
    seen["first_pid"] = first.pid
    return a, b, seen


def test_the_same_files_in_another_order_give_the_same_marts(two_homes):
    a, b, _ = two_homes
    assert data_digests(b.snapshot) == data_digests(a.snapshot)
    # The digest users compare, in snapshot.json: every mart's data_sha256 agrees too.
    ours, theirs = (json.loads(h.snapshot_info.read_text())["marts"] for h in (b, a))
    assert {m: v["data_sha256"] for m, v in ours.items()} == {m: v["data_sha256"] for m, v in theirs.items()}
    assert all(ours[m]["rows"] > 0 for m in ours), "every mart holds rows: the comparison is not of empty tables"


def test_the_two_homes_loaded_their_rows_in_different_orders(two_homes):
    """The comparison has teeth: the raw e-document rows (whose float mean once differed) sit in
    another order in B's table than in A's."""
    a, b, _ = two_homes
    orders = []
    for home in (a, b):
        con = duckdb.connect(str(home.warehouse), read_only=True)
        try:
            orders.append([r[0] for r in con.execute("SELECT document_id FROM raw.edoc_processing_log").fetchall()])
        finally:
            con.close()
    assert sorted(orders[0]) == sorted(orders[1]) and orders[0] != orders[1]


def test_every_file_is_recorded_once_and_nothing_is_loaded_twice(two_homes):
    a, b, seen = two_homes
    assert seen["killed_rc"] == -signal.SIGKILL and seen["damaged_left_in_landing"]
    assert seen["loaded_before_kill"] > seen["loaded_by_first"], "the killed run had loaded files before its kill"
    manifest = {(r[0], r[6], r[10]) for r in _manifest(b)}
    expected_quarantine = {
        ("clearance_events_20100705.csv.gz", "quarantined", "header_only"),
        ("itsm_incidents_unipass_20070615.csv.gz", "quarantined", "unreadable"),
        ("clearance_declarations_20100706.csv.gz", "quarantined", "duplicate_content"),
    }
    assert expected_quarantine <= manifest
    assert ("itsm_service_requests_unipass_20100704.csv.gz", "loaded", "quiet_day") in manifest
    assert not (b.landing / "itsm_incidents_unipass_20070615.csv.gz").exists(), "the next run finished the move"
    assert (b.quarantine / "itsm_incidents_unipass_20070615.csv.gz.reason.json").exists()
    con = duckdb.connect(str(b.warehouse), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT file_name FROM meta.file_manifest").fetchall()]
        assert len(names) == len(set(names)), "a file recorded twice"
        tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()
        for (table,) in tables:
            n, distinct = con.execute(
                f"SELECT count(*), count(DISTINCT (_source_file, _source_line)) FROM raw.{table}"
            ).fetchone()
            assert n == distinct, f"raw.{table} holds a row twice"
        loaded = con.execute("SELECT sum(rows_loaded) FROM meta.file_manifest").fetchone()[0]
    finally:
        con.close()
    assert loaded == sum(r["rows_loaded"] for r in journal_records(a)), "B loaded exactly the rows A did"


def test_two_runs_at_once_take_turns_and_readers_are_not_blocked(two_homes):
    _, b, seen = two_homes
    assert seen["rcs"] == (0, 0), seen["first_out"][-2000:] + seen["second_out"][-2000:]
    out = seen["second_out"]
    assert "waiting for the writer lock" in out and f"pid {seen['first_pid']}" in out and "swpm run" in out
    assert "snapshot already current" in out, out[-2000:]
    assert seen["reads"] and max(seen["reads"]) < 5, "a snapshot reader waited"
    assert lock.current_holder(b) is None


def test_a_deleted_warehouse_is_said_and_rebuilt_to_the_same_marts(two_homes, capsys, tmp_path):
    _, b, _ = two_homes
    shutil.copy2(b.snapshot, tmp_path / "before.duckdb")
    before = json.loads(b.snapshot_info.read_text())["marts"]
    manifest = _manifest(b)
    b.warehouse.unlink()
    capsys.readouterr()
    assert cli.main(["--home", str(b.root), "status"]) == 1
    assert "WAREHOUSE LOST" in capsys.readouterr().out
    assert cli.main(["--home", str(b.root), "run", "--date", RUN_DATE]) == 1
    err = capsys.readouterr().err
    assert "is missing" in err and "swpm rebuild" in err
    assert cli.main(["--home", str(b.root), "rebuild"]) == 0
    out = capsys.readouterr().out
    assert "from the manifest's journal" in out and "MISSING" not in out and "CHANGED" not in out
    after = json.loads(b.snapshot_info.read_text())["marts"]
    assert {m: v["data_sha256"] for m, v in after.items()} == {m: v["data_sha256"] for m, v in before.items()}
    # Load times included: the rebuild reloads each file with its first load time. Not the run
    # times (when a run first saw an alert), which lived in the lost file only.
    every_column_but_run_times = publisher.without_run_times
    assert data_digests(b.snapshot, every_column_but_run_times) == data_digests(
        tmp_path / "before.duckdb", every_column_but_run_times
    )
    assert _manifest(b) == manifest


def test_a_damaged_warehouse_is_said_clearly(two_homes, capsys):
    _, b, _ = two_homes
    with open(b.warehouse, "r+b") as fh:
        fh.truncate(b.warehouse.stat().st_size // 2)
    try:
        capsys.readouterr()
        assert cli.main(["--home", str(b.root), "load"]) == 1
        err = capsys.readouterr().err
        assert "cannot be opened" in err and "damaged" in err and "swpm rebuild" in err
    finally:
        b.warehouse.unlink()  # the last test of the module: nothing reads B after this
