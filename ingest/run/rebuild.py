"""``swpm rebuild``: a lost or damaged warehouse rebuilt from the kept files.

With the manifest's journal (``archive/manifest.jsonl``): every file version it records as
loaded is reloaded from its kept copy (``archive/``, else ``landing/``) in the order it was
first loaded, under its first batch id and load time, and every quarantine record is restored
as it was; then dbt builds the marts from scratch, the GX checks run and the snapshot is
published. The manifest, raw and the marts then equal the lost ones, load times included.

Without the journal: every kept file (``archive/`` in the order it was archived, then
``landing/`` by data date) is loaded anew through the door, and the quarantine records come
from ``quarantine/*.reason.json``; the report says what this could not know.

The warehouse file that was there (damaged) is set aside beside, never deleted. The run log,
the dbt build history, the freshness checks and the alert log were in the lost file only: they
start afresh (the next night checks freshness and alerts again).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.config import Home
from ingest.files import sha256_of
from ingest.landing import archive
from ingest.run.lock import home_lock
from ingest.run.runlog import new_batch_id
from ingest.warehouse import connect

NOT_RESTORED = (
    "the run log (meta.runs), the dbt build history, the freshness checks and the alert log "
    "(meta.alert_log: the next alert step sees the open alerts as new): they start afresh"
)
FILES_ONLY_UNKNOWNS = (
    "which files had been loaded, in which order, batch and time: every kept file was loaded anew "
    "(archive/ in the order the files were archived, then landing/ by data date), with new batch ids "
    "and load times, so source_refreshed_at and the snapshot's sha256 differ from the lost ones",
    "which version of a file won where two versions carry the same keys, if they were delivered in "
    "another order than they were archived",
    "versions of a file that were replaced in landing/ and never archived (loaded before the archive existed)",
    "the row counts of files quarantined before (restored from quarantine/*.reason.json without them), "
    "and the names refused as unsafe paths, which left no file behind",
)


@dataclass
class RebuildReport:
    mode: str  # "journal" (the manifest's journal) or "files" (the kept files alone)
    set_aside: str | None = None
    reloaded: int = 0
    quarantine_records: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    published: dict | None = None
    seconds: float = 0.0

    def lines(self) -> list[str]:
        source = "the manifest's journal" if self.mode == "journal" else "the kept files alone (no journal)"
        out = [
            f"rebuild: from {source}: {self.reloaded} file(s) reloaded, {self.quarantine_records} quarantine record(s)"
        ]
        if self.set_aside:
            out.append(f"rebuild: the previous warehouse file is kept as {self.set_aside}")
        out += [f"rebuild: MISSING {m}" for m in self.missing]
        out += [f"rebuild: CHANGED {c}" for c in self.changed]
        out += [f"rebuild: could not know {u}" for u in self.unknown]
        out.append(f"rebuild: not restored: {NOT_RESTORED}")
        if self.published:
            out.append(f"rebuild: published snapshot {self.published['snapshot_id']}")
        out.append(f"rebuild: {self.seconds:.1f} s")
        return out


def rebuild(home: Home, log: Callable[[str], None] = print, build: bool = True) -> RebuildReport:
    """Rebuild the warehouse of ``home`` from its kept files (see the module docstring); with
    ``build``, then build, check and publish the marts."""
    from ingest.run import pipeline

    started = time.monotonic()
    home.ensure()
    with home_lock(home, what="swpm rebuild", trigger="rebuild", log=log):
        set_aside = _set_aside(home)
        records = archive.journal_records(home)
        report = _from_journal(home, records, log) if records else _from_files(home, log)
        report.set_aside = set_aside
        if build:
            log("rebuild: dbt build --full-refresh")
            pipeline.build(home, full_refresh=True)
            pipeline.check(home)
            report.published = pipeline.publish(home, new_batch_id(trigger="rebuild"))
    report.seconds = time.monotonic() - started
    for line in report.lines():
        log(line)
    return report


def _set_aside(home: Home) -> str | None:
    """Move the warehouse file (and its WAL) aside, so the rebuild starts from an empty one."""
    if not home.warehouse.exists():
        return None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = home.warehouse.with_name(f"{home.warehouse.name}.before-rebuild-{stamp}")
    home.warehouse.rename(target)
    wal = home.warehouse.with_name(home.warehouse.name + ".wal")
    if wal.exists():
        wal.rename(target.with_name(target.name + ".wal"))
    return str(target)


def _from_journal(home: Home, records: list[dict], log) -> RebuildReport:
    from ingest.landing.load import insert_record, load_file

    report = RebuildReport("journal")
    ordered = sorted(records, key=lambda r: (r["recorded_at"], r["file_name"]))
    for i, record in enumerate(ordered, 1):
        name, sha = record["file_name"], record["sha256"]
        if record["status"] != "loaded":
            with connect(home, create=True) as con:
                insert_record(con, record)
            report.quarantine_records += 1
            continue
        path = archive.find_version(home, name, sha, record.get("archive_path"))
        if path is None:
            report.missing.append(
                f"{name} (sha256 {sha[:12]}..., {record['rows_loaded']} rows): loaded at {record['recorded_at']}, "
                "but no kept copy in archive/ or landing/; its rows are not in the rebuilt warehouse"
            )
            continue
        outcome = load_file(
            home,
            path,
            record["batch_id"],
            as_name=name,
            loaded_at=record.get("loaded_at") or record["recorded_at"],
            recorded_at=record["recorded_at"],
            journal=False,
        )
        if outcome.status != "loaded" or outcome.rows_loaded != record["rows_loaded"]:
            report.changed.append(
                f"{name}: {record['rows_loaded']} rows loaded at first, now {outcome.status} with "
                f"{outcome.rows_loaded} ({outcome.message or 'no message'}); has its contract changed?"
            )
        report.reloaded += outcome.status == "loaded"
        if i % 50 == 0:
            log(f"rebuild: {i}/{len(ordered)} records")
    return report


def _from_files(home: Home, log) -> RebuildReport:
    from ingest.landing.contracts import contract_for
    from ingest.landing.load import insert_record, load_file

    report = RebuildReport("files", unknown=list(FILES_ONLY_UNKNOWNS))
    batch = new_batch_id(trigger="rebuild")
    kept = sorted(
        (
            p
            for p in home.archive.iterdir()
            if p.is_file() and not p.is_symlink() and p != home.manifest_journal and not p.name.startswith(".")
        ),
        key=lambda p: (p.stat().st_mtime, p.name),
    )
    versions = [(archive.original_name(p.name), p) for p in kept]
    archived = {(name, p.name[:16]) for name, p in versions}

    def data_date(path: Path) -> str:
        contract = contract_for(path.name)
        return (contract.data_date(path.name) if contract else None) or ""

    landed = [p for p in home.landing.iterdir() if p.is_file() and not p.is_symlink() and not p.name.startswith(".")]
    for path in sorted(landed, key=lambda p: (data_date(p), p.name)):
        if (path.name, sha256_of(path)[:16]) not in archived:
            versions.append((path.name, path))
    for i, (name, path) in enumerate(versions, 1):
        outcome = load_file(home, path, batch, as_name=name)
        report.reloaded += outcome.status == "loaded"
        if i % 50 == 0:
            log(f"rebuild: {i}/{len(versions)} files")
    with connect(home, create=True) as con:
        known = {tuple(r) for r in con.execute("SELECT file_name, sha256 FROM meta.file_manifest").fetchall()}
        restored = []
        for reason_file in sorted(home.quarantine.glob("*.reason.json")):
            if reason_file.name.endswith(".rows.reason.json"):
                continue
            reason = json.loads(reason_file.read_text(encoding="utf-8"))
            if (reason["file_name"], reason["sha256"]) in known:
                continue
            quarantined = reason_file.with_name(reason_file.name[: -len(".reason.json")])
            record = {
                "file_name": reason["file_name"],
                "source_kind": getattr(contract_for(reason["file_name"]), "source_kind", None),
                "sha256": reason["sha256"],
                "size_bytes": quarantined.stat().st_size if quarantined.exists() else 0,
                "batch_id": batch,
                "status": "quarantined",
                "rows_loaded": 0,
                "rows_quarantined": 0,
                "reason_code": reason.get("reason_code"),
                "message": reason.get("message"),
                "quarantine_path": str(quarantined),
                "recorded_at": dt.datetime.fromisoformat(reason["quarantined_at"])
                if reason.get("quarantined_at")
                else dt.datetime.now(dt.UTC).replace(tzinfo=None),
            }
            insert_record(con, record)
            known.add((record["file_name"], record["sha256"]))
            restored.append(record)
    archive.journal_append(home, restored)
    report.quarantine_records = len(restored)
    return report
