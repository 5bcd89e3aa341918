"""Publish the marts as a consistent read-only snapshot for BI tools.

``serving/marts.duckdb`` (every mart as a table, plus ``snapshot_info``) is written to a temporary
file and renamed into place; ``serving/parquet`` is a symbolic link to the snapshot's parquet
folder, swapped by rename. A rename is atomic, so a reader sees the old snapshot or the new one,
never half of one; a reader that has the old file open keeps reading it. A failure before the
renames leaves the previous snapshot served.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from ingest import crashpoints
from ingest.config import PUBLISHED_MARTS, Home
from ingest.files import part_path
from ingest.warehouse import connect

KEEP_SNAPSHOTS = 2


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


def _order_by(table) -> list[tuple[str, str]]:
    """The published row order: the marts' usual keys first, then every other column as a tie
    breaker, so that a mart whose key is not among the usual ones (a curve's hours, a party, a
    comparison) still comes out in one order, whatever order the build wrote it in."""
    keys = [
        c
        for c in (
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
        if c in table.column_names
    ]
    keys += [c for c in table.column_names if c not in keys]
    return [(k, "ascending") for k in keys]


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


def publish(home: Home, batch_id: str, marts=PUBLISHED_MARTS) -> dict:
    home.ensure()
    try:
        with _publish_lock(home):
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
                digest = hashlib.sha256()
                for batch in table.to_batches():
                    digest.update(batch.to_pandas().to_csv(index=False).encode())
                info["marts"][mart] = {"rows": table.num_rows, "sha256": digest.hexdigest()}
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
