"""The load step in groups: one group per source kind of the new files, each loaded file by file.

A task per file costs more in Airflow's own overhead than most files cost to load (the demo's
world is several hundred files), so the DAGs map one load task over each source kind's new
files instead. Every file still has its own outcome: its manifest entry (loaded or quarantined,
rows, reason), its quarantine folder entry, and a line in the task's log and result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path

from ingest.config import Home

UNCLAIMED = "unclaimed"  # files no contract claims: quarantined as unknown_source when loaded


def label(kind: str, files: list[str]) -> str:
    """The group's name in the Airflow UI (map_index_template): the file's name when it is alone."""
    names = [Path(f).name for f in files]
    if len(names) == 1:
        return names[0]
    return f"{kind}: {len(names)} files, {names[0]} .. {names[-1]}"


def groups(home: Home, until: dt.date | None = None, kinds: Iterable[str] | None = None) -> list[dict]:
    """The new files (``ingest.landing.discover``: oldest data date first) by source kind, in
    the order each kind first appears; ``kinds`` keeps only those source kinds."""
    from ingest.landing.contracts import contract_for
    from ingest.landing.discover import discover

    wanted = set(kinds) if kinds is not None else None
    by_kind: dict[str, list[str]] = {}
    for path in discover(home, until=until):
        contract = contract_for(path.name)
        kind = contract.source_kind if contract else UNCLAIMED
        if wanted is None or kind in wanted:
            by_kind.setdefault(kind, []).append(str(path))
    return [{"source_kind": k, "files": v, "label": label(k, v)} for k, v in by_kind.items()]


def load_group(home: Home, group: dict, batch_id: str, log: Callable[[str], None] = print) -> dict:
    """Load each file of one group (``ingest.landing.load.load_files``: each checked whole, loaded
    in its own transaction or quarantined) through one warehouse connection, under one hold of
    the home's writer lock; a file already recorded, e.g. by an earlier try of the same task, is
    skipped. The per-file outcomes, for the task's result."""
    from ingest.landing.load import load_files

    files = group["files"]
    outcomes = []
    for i, outcome in enumerate(load_files(home, files, batch_id), 1):
        log(f"[{i}/{len(files)}] {describe(outcome)}")
        outcomes.append(
            {
                "file": outcome.file_name,
                "status": outcome.status,
                "rows_loaded": outcome.rows_loaded,
                "rows_quarantined": outcome.rows_quarantined,
                "reason_code": outcome.reason_code,
            }
        )
    counts = {s: sum(o["status"] == s for o in outcomes) for s in ("loaded", "quarantined", "skipped")}
    return {"source_kind": group["source_kind"], "files": len(outcomes), **counts, "outcomes": outcomes}


def describe(outcome) -> str:
    line = f"{outcome.status} {outcome.file_name}"
    if outcome.status == "loaded":
        return line + f" ({outcome.rows_loaded} rows)"
    if outcome.status == "quarantined":
        return line + f": {outcome.reason_code}: {outcome.message}"
    return line
