"""What a killed run leaves half done, finished by the next one before it decides anything.

- a publish killed between its renames: ``marts.duckdb`` is the new snapshot, ``snapshot.json``
  and ``parquet/`` the old one; the new ones are still beside them, so the swap is finished;
- a file killed while it was set aside: recorded as quarantined but still in ``landing/``; its
  quarantined copy is made whole and the landing copy removed;
- a record whose append to the manifest's journal (``archive/manifest.jsonl``) a kill cut off.

A load, a build or a publish killed before its commit or rename needs nothing: it left nothing
behind that counts (docs/operations.md#crashes-re-runs-and-late-data).
"""

from __future__ import annotations

from collections.abc import Callable

from ingest.config import Home
from ingest.landing.archive import sync_journal
from ingest.landing.quarantine import finish_interrupted_moves
from ingest.run import publish as publisher
from ingest.run.lock import home_lock
from ingest.warehouse import connect


def recover(home: Home, log: Callable[[str], None] = print) -> list[str]:
    """Finish what a killed run left half done; returns (and logs) what was repaired."""
    done = []
    with home_lock(home, what="recover"):
        swap = publisher.repair(home)
        if swap:
            done.append(swap)
        if home.warehouse.exists():
            with connect(home) as con:
                moved = finish_interrupted_moves(home, con)
                journaled = sync_journal(home, con)
            if moved:
                done.append(f"finished setting aside {len(moved)} file(s) left in landing/: {', '.join(moved)}")
            if journaled:
                done.append(f"appended {journaled} manifest record(s) missing from {home.manifest_journal}")
    for line in done:
        log(f"recover: {line}")
    return done
