"""Publish the marts as a consistent read-only snapshot for BI tools.

``serving/marts.duckdb`` (every mart as a table, plus ``snapshot_info``) is written to a temporary
file and renamed into place; ``serving/parquet`` is a symbolic link to the snapshot's parquet
folder, swapped by rename. A rename is atomic, so a reader sees the old snapshot or the new one,
never half of one; a reader that has the old file open keeps reading it. A failure before the
renames leaves the previous snapshot served; a kill between the renames (``marts.duckdb`` new,
``snapshot.json`` and the Parquet link not yet) is finished by the next publisher or run
(:func:`finish_interrupted_swap`).

``snapshot.json`` holds per mart its rows, ``sha256`` (every column) and ``data_sha256`` (every
column but the load times, ``source_*_at``): the same data gives the same ``data_sha256`` in any
home, whatever order or batches it was loaded in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
from pathlib import Path

import duckdb
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ingest import crashpoints
from ingest.config import PUBLISHED_MARTS, Home
from ingest.files import part_path
from ingest.run.lock import home_lock
from ingest.warehouse import connect

KEEP_SNAPSHOTS = 2
# Columns that hold when something happened rather than what the data says, left out of
# data_sha256 so that two homes with the same data agree: load times (source_refreshed_at, ...;
# `swpm rebuild` restores them) and run times (kpi_alerts.first_seen_at, when a run first saw an
# alert; run state, which a lost warehouse loses).
LOAD_TIME_COLUMN = re.compile(r"^source_\w*_at$")
RUN_TIME_COLUMN = re.compile(r"^\w+_seen_at$")


class PublishFailed(RuntimeError):
    pass


def warehouse_watermark(con) -> dict:
    """What the marts were built from: how many files were recorded and the latest record."""
    n, last = con.execute("SELECT count(*), max(recorded_at) FROM meta.file_manifest").fetchone()
    return {"files_recorded": n, "last_recorded_at": last.isoformat() if last else None}


def current_snapshot(home: Home) -> dict | None:
    path = home.snapshot_info
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _write_synced(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


KEY_COLUMNS = (
    "period_type",
    "period_start",
    "year",
    "segment_order",
    "segment",
    "declaration_type",
    "transport_mode",
    "channel",
    "customs_office",
    "item",
    "kpi_code",
)


def _order_by(table) -> list[tuple[str, str]]:
    """A total order of a mart's rows: its key columns, then every other column (load times
    last), so the same rows are written in the same order however the build produced them."""
    names = table.column_names
    keys = [c for c in KEY_COLUMNS if c in names]
    rest = [c for c in names if c not in keys and not LOAD_TIME_COLUMN.match(c)]
    return [(k, "ascending") for k in keys + rest + [c for c in names if LOAD_TIME_COLUMN.match(c)]]


def table_digest(table, columns=None) -> str:
    """sha256 of a table's rows as CSV (Arrow's writer: full precision, strings quoted, a null
    empty and unquoted, so it differs from an empty string), in its row order: one header line of
    the column names, then the rows, whatever its chunks. Arrow's writer, not pandas': a mart of
    a year of months is hashed in milliseconds, not a second."""
    columns = list(columns if columns is not None else table.column_names)
    rows = io.BytesIO()
    pa_csv.write_csv(table.select(columns), rows, pa_csv.WriteOptions(include_header=False))
    digest = hashlib.sha256(",".join(columns).encode() + b"\n")
    digest.update(rows.getbuffer())
    return digest.hexdigest()


def data_columns(names) -> list[str]:
    """The columns that say what the data says: not load times, not run times."""
    return [c for c in without_run_times(names) if not LOAD_TIME_COLUMN.match(c)]


def without_run_times(names) -> list[str]:
    return [c for c in names if not RUN_TIME_COLUMN.match(c)]


@contextlib.contextmanager
def _publish_lock(home: Home):
    """One publisher at a time, so a publisher may clear what a killed one left behind."""
    with open(home.serving / ".publish.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _clear_leftovers(home: Home) -> None:
    """Temporary files and unserved snapshot folders of a publisher that died mid-way."""
    for p in home.serving.glob(".marts.*.duckdb.part*"):
        p.unlink(missing_ok=True)
    for p in home.serving.glob(".parquet.*.link"):
        p.unlink(missing_ok=True)
    part_path(home.snapshot_info).unlink(missing_ok=True)
    served = home.serving / "parquet"
    keep = Path(os.readlink(served)).name if served.is_symlink() else None
    snapshots = home.serving / "snapshots"
    if snapshots.is_dir() and keep:
        # A folder newer than the served one was never swapped in.
        for p in snapshots.iterdir():
            if p.is_dir() and p.name > keep:
                shutil.rmtree(p, ignore_errors=True)


def served_snapshot_id(home: Home) -> str | None:
    """The id inside the served serving/marts.duckdb (None without one)."""
    if not home.snapshot.exists():
        return None
    try:
        con = duckdb.connect(str(home.snapshot), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.execute("SELECT snapshot_id FROM snapshot_info").fetchone()[0]
    except duckdb.Error:
        return None
    finally:
        con.close()


def is_consistent(home: Home) -> bool:
    """snapshot.json, the Parquet link and marts.duckdb are one snapshot."""
    info = current_snapshot(home)
    served = served_snapshot_id(home)
    if info is None or served is None:
        return info is None and served is None
    link = home.serving / "parquet"
    target = Path(os.readlink(link)).parent.name if link.is_symlink() else None
    return info.get("snapshot_id") == served == target


def finish_interrupted_swap(home: Home) -> str | None:
    """A publisher killed between its renames served the new marts.duckdb with the old
    snapshot.json and Parquet link. Its next files are still beside them, written and synced
    before the swap: rename them into place (as the killed publisher would have). Returns what
    was repaired, or None. Caller holds the publish lock."""
    served = served_snapshot_id(home)
    info = current_snapshot(home)
    if served is None or (info or {}).get("snapshot_id") == served:
        return None
    pending_info = part_path(home.snapshot_info)
    pending_link = home.serving / f".parquet.{served}.link"
    try:
        pending = json.loads(pending_info.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pending = None
    folder = home.serving / "snapshots" / served / "parquet"
    if not (pending and pending.get("snapshot_id") == served and folder.is_dir()):
        return None  # not a swap of ours to finish; the next publish replaces all three
    if not pending_link.is_symlink():
        os.symlink(Path("snapshots") / served / "parquet", pending_link)
    os.replace(pending_link, home.serving / "parquet")
    os.replace(pending_info, home.snapshot_info)
    _prune(home.serving / "snapshots", keep=served)
    return f"finished the interrupted publish of snapshot {served} (snapshot.json and parquet/ now match marts.duckdb)"


def repair(home: Home) -> str | None:
    """Finish an interrupted swap, under the publish lock (a run calls it before anything)."""
    if not home.serving.is_dir():
        return None
    with _publish_lock(home):
        return finish_interrupted_swap(home)


def publish(home: Home, batch_id: str, marts=PUBLISHED_MARTS) -> dict:
    home.ensure()
    try:
        with home_lock(home, what="publish", batch_id=batch_id), _publish_lock(home):
            finish_interrupted_swap(home)
            _clear_leftovers(home)
            return _publish(home, batch_id, marts)
    except OSError as exc:  # e.g. the lock file itself on a read-only folder
        raise PublishFailed(
            f"publishing to {home.serving} failed ({exc}); the previous snapshot is still served"
        ) from exc


def _publish(home: Home, batch_id: str, marts) -> dict:
    published_at = dt.datetime.now(dt.UTC)
    snapshot_id = published_at.strftime("%Y%m%dT%H%M%S%fZ")
    snapshots = home.serving / "snapshots"
    folder = snapshots / snapshot_id
    tmp_db = home.serving / f".marts.{snapshot_id}.duckdb.part"
    try:
        (folder / "parquet").mkdir(parents=True, exist_ok=False)
        with connect(home, read_only=True) as con:
            tables = {}
            for mart in marts:
                table = con.sql(f"SELECT * FROM marts.{mart}").arrow()  # tables and views alike
                if hasattr(table, "read_all"):
                    table = table.read_all()
                keys = _order_by(table)
                tables[mart] = table.sort_by(keys) if keys else table
            watermark = warehouse_watermark(con)
        info = {
            "snapshot_id": snapshot_id,
            "published_at": published_at.isoformat(),
            "batch_id": batch_id,
            "source": watermark,
            "marts": {},
        }
        snap = duckdb.connect(str(tmp_db))
        try:
            for mart, table in tables.items():
                pq.write_table(table, folder / "parquet" / f"{mart}.parquet")
                snap.register("incoming", table)
                snap.execute(f'CREATE TABLE "{mart}" AS SELECT * FROM incoming')
                snap.unregister("incoming")
                info["marts"][mart] = {
                    "rows": table.num_rows,
                    "sha256": table_digest(table),
                    "data_sha256": table_digest(table, data_columns(table.column_names)),
                }
            snap.execute(
                "CREATE TABLE snapshot_info AS SELECT $id AS snapshot_id, $at::TIMESTAMPTZ AS published_at, "
                "$batch AS batch_id, $marts AS marts_json",
                {"id": snapshot_id, "at": published_at, "batch": batch_id, "marts": json.dumps(info["marts"])},
            )
            snap.execute("CHECKPOINT")
        finally:
            snap.close()
        with open(tmp_db, "rb") as fh:
            os.fsync(fh.fileno())
        # Everything that needs disk space is written before the swap, so a full disk fails here.
        # Not ingest.files.replacing: the three new files are written first and renamed together
        # below, the snapshot last-but-one, so a failure before the swap changes nothing served.
        info_tmp = part_path(home.snapshot_info)
        _write_synced(info_tmp, json.dumps(info, indent=2, default=str))
        link_tmp = home.serving / f".parquet.{snapshot_id}.link"
        os.symlink(Path("snapshots") / snapshot_id / "parquet", link_tmp)
        parquet_link = home.serving / "parquet"
        if parquet_link.exists() and not parquet_link.is_symlink():
            shutil.rmtree(parquet_link)  # a folder left by hand: replace it with the link
        crashpoints.reached("publish:before_swap")
    except (OSError, duckdb.Error) as exc:
        for leftover in (tmp_db, part_path(home.snapshot_info), home.serving / f".parquet.{snapshot_id}.link"):
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        raise PublishFailed(
            f"publishing to {home.serving} failed ({exc}); the previous snapshot is still served"
        ) from exc
    # The swap: each step is a rename (no new space needed); the old snapshot is served until then.
    try:
        os.replace(tmp_db, home.snapshot)
    except OSError as exc:
        for leftover in (tmp_db, info_tmp, link_tmp):
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
        raise PublishFailed(
            f"publishing to {home.serving} failed ({exc}); the previous snapshot is still served"
        ) from exc
    crashpoints.reached("publish:mid_swap")
    try:
        os.replace(link_tmp, parquet_link)
        os.replace(info_tmp, home.snapshot_info)
    except OSError as exc:
        raise PublishFailed(
            f"publishing to {home.serving} failed after serving/marts.duckdb was replaced "
            f"({exc}); marts.duckdb is the new snapshot, the Parquet link or snapshot.json "
            "is not: fix the folder and publish again"
        ) from exc
    _prune(snapshots, keep=snapshot_id)
    return info


def _prune(snapshots: Path, keep: str) -> None:
    """Keep the newest snapshots (the served one and its predecessor, for readers mid-query)."""
    older = sorted(p for p in snapshots.iterdir() if p.is_dir() and p.name != keep)
    for p in older[: max(len(older) - (KEEP_SNAPSHOTS - 1), 0)]:
        shutil.rmtree(p, ignore_errors=True)
