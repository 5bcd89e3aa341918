"""New files in landing/: not yet recorded in the manifest, oldest data date first."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from ingest.config import Home
from ingest.files import sha256_of
from ingest.landing.contracts import contract_for
from ingest.landing.outcome import Rejected
from ingest.warehouse import check_present, connect


def discover(home: Home, until: dt.date | None = None) -> list[Path]:
    """Files in ``landing/`` not yet recorded in the manifest (by name and content), oldest
    data date first. With ``until``, files whose name carries a later data date wait for the
    run of that date. A file already recorded under its name and size, and not modified since,
    is not hashed again: a night's cost follows the new files, not the history in landing/.
    A file that disappears while it is looked at (another run just quarantined it) is not new."""
    home.ensure()
    check_present(home)
    candidates = sorted(p for p in home.landing.iterdir() if p.is_file() and not p.name.startswith("."))
    known: set[tuple[str, str]] = set()
    recorded: dict[tuple[str, int], dt.datetime] = {}
    if home.warehouse.exists():
        with connect(home, read_only=True) as con:
            try:
                rows = con.execute(
                    "SELECT file_name, sha256, size_bytes, recorded_at FROM meta.file_manifest"
                ).fetchall()
            except duckdb.CatalogException:
                rows = []
        known = {(name, sha) for name, sha, _, _ in rows}
        for name, _, size, at in rows:
            recorded[(name, size)] = max(at, recorded.get((name, size), at))
    new = []
    for path in candidates:
        contract = contract_for(path.name)
        data_date = contract.data_date(path.name) if contract else None
        if until and data_date and dt.date.fromisoformat(data_date) > until:
            continue
        try:
            stat = path.stat()
            seen_at = recorded.get((path.name, stat.st_size))
            # ctime too: a copy that keeps an old mtime still gets a new ctime when it lands.
            modified = dt.datetime.fromtimestamp(max(stat.st_mtime, stat.st_ctime), dt.UTC).replace(tzinfo=None)
            if seen_at is not None and modified < seen_at:
                continue
            if (path.name, sha256_of(path)) in known:
                continue
        except FileNotFoundError:
            continue  # moved away since the listing
        new.append((data_date or "", path.name, path))
    return [p for _, _, p in sorted(new)]


def safe_landing_path(home: Home, path: Path) -> Path:
    """The file's real path, which must be a plain file directly inside landing/."""
    landing = home.landing.resolve()
    resolved = (landing / path.name if not path.is_absolute() else path).resolve()
    if resolved.parent != landing or not resolved.is_file():
        raise Rejected(
            "unsafe_path",
            f"{path}: not a plain file inside {landing}; files must be dropped directly into "
            "landing/ (no links, no sub-folders, no '..').",
        )
    return resolved
