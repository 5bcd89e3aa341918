"""What a rebuild needs if the warehouse is lost: every loaded file version, and the manifest.

- ``archive/<sha256[:16]>_<name>``: a copy of every file version the loader loaded, taken
  inside the load's transaction (a load that cannot archive its file does not commit). The
  landing copy stays where it was delivered; a corrected file under the same name, or a
  landing folder cleaned by hand, leaves the archived version intact. Lineage: a raw row's
  ``_source_file`` and ``_source_sha256`` name its archived file.
- ``archive/manifest.jsonl``: the journal of ``meta.file_manifest``, one JSON line per record
  (loaded or quarantined), appended and synced after the record commits. A record whose
  append a crash cut off is appended at the next run (:func:`sync_journal`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

from ingest.config import PRIVATE_FILE, Home
from ingest.files import replacing, sha256_of

MANIFEST_COLUMNS = (
    "file_name",
    "source_kind",
    "sha256",
    "size_bytes",
    "data_date",
    "batch_id",
    "status",
    "rows_landed",
    "rows_loaded",
    "rows_quarantined",
    "reason_code",
    "message",
    "quarantine_path",
    "recorded_at",
    "loaded_at",
    "archive_path",
)
_TIMES = ("recorded_at", "loaded_at")


def archive_name(name: str, sha: str) -> str:
    return f"{sha[:16]}_{name}"


def original_name(archived: str) -> str:
    """The delivered name of an archived file (``<sha256[:16]>_<name>``)."""
    return archived[17:] if len(archived) > 17 and archived[16] == "_" else archived


def archive_file(home: Home, path: Path, name: str, sha: str) -> str:
    """Copy a file version into archive/ (written beside, synced, renamed; owner-only) and
    return its path relative to the home. An archived copy of the same content is kept."""
    target = home.archive / archive_name(name, sha)
    if not (target.exists() and sha256_of(target) == sha):
        home.archive.mkdir(mode=0o700, parents=True, exist_ok=True)
        with replacing(target, sync=True, mode=PRIVATE_FILE) as tmp:
            shutil.copyfile(path, tmp)
    return str(target.relative_to(home.root))


def find_version(home: Home, name: str, sha: str, recorded: str | None = None) -> Path | None:
    """The kept file of a loaded version: its archived copy, else the landing copy if it still
    holds that content (a file loaded before the archive existed)."""
    candidates = [home.root / recorded] if recorded else []
    candidates += [home.archive / archive_name(name, sha), home.landing / name]
    for path in candidates:
        if path.is_file() and not path.is_symlink() and sha256_of(path) == sha:
            return path
    return None


def _jsonable(record: dict) -> dict:
    out = {}
    for column in MANIFEST_COLUMNS:
        value = record.get(column)
        out[column] = value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else value
    return out


def journal_append(home: Home, records: list[dict]) -> None:
    """Append manifest records to the journal and sync them to disk."""
    if not records:
        return
    home.archive.mkdir(mode=0o700, parents=True, exist_ok=True)
    lines = "".join(json.dumps(_jsonable(r), ensure_ascii=False) + "\n" for r in records)
    fd = os.open(home.manifest_journal, os.O_RDWR | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            lines = "\n" + lines  # a line a full disk or a crash cut short stays a line of its own
        os.write(fd, lines.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def journal_records(home: Home) -> list[dict]:
    """Every record of the journal, in the order it was written (the first of duplicates). A
    last line cut short by a crash is left out."""
    path = home.manifest_journal
    if not path.exists():
        return []
    seen, out = set(), []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        key = (record.get("file_name"), record.get("sha256"))
        if key in seen:
            continue
        seen.add(key)
        for column in _TIMES:
            if record.get(column):
                record[column] = dt.datetime.fromisoformat(record[column])
        out.append(record)
    return out


def journal_has_records(home: Home) -> bool:
    path = home.manifest_journal
    return path.is_file() and path.stat().st_size > 0


def sync_journal(home: Home, con) -> int:
    """Append the manifest records the journal lacks (a crash between a record's commit and
    its append); returns how many."""
    known = {(r["file_name"], r["sha256"]) for r in journal_records(home)}
    cur = con.execute(f"SELECT {', '.join(MANIFEST_COLUMNS)} FROM meta.file_manifest ORDER BY recorded_at, file_name")
    missing = [dict(zip(MANIFEST_COLUMNS, row)) for row in cur.fetchall()]
    missing = [r for r in missing if (r["file_name"], r["sha256"]) not in known]
    journal_append(home, missing)
    return len(missing)
