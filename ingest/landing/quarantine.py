"""Setting files (and repeated rows) aside in quarantine/, each with a reason file beside it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ingest.config import Home
from ingest.files import write_atomic
from ingest.landing.checks import quote_ident
from ingest.landing.contracts import Contract
from ingest.landing.discover import sha256_of
from ingest.landing.outcome import Rejected, utc_now


def set_aside_exact_duplicates(con, home: Home, contract: Contract, name: str, sha: str) -> int:
    """With a unique key, a row repeated byte for byte is a re-sent line: keep the first copy,
    set the others aside (listed in quarantine/<file>.rows.reason.json) and load the file."""
    if not contract.unique_key:
        return 0
    # A repeated row repeats its key: when the keys are all distinct (the usual case) there is
    # nothing to look for, and counting them is far cheaper than comparing whole rows.
    key = ", ".join(quote_ident(c) for c in contract.unique_key)
    distinct, total = con.execute(f"SELECT count(DISTINCT ({key})), count(*) FROM delivered").fetchone()
    if distinct == total:
        return 0
    cols = ", ".join(quote_ident(c) for c in contract.column_names)
    lines_ = [
        r[0]
        for r in con.execute(
            f"SELECT _source_line FROM (SELECT _source_line, row_number() OVER (PARTITION BY {cols} "
            f"ORDER BY _source_line) AS copy FROM delivered) WHERE copy > 1 ORDER BY 1"
        ).fetchall()
    ]
    if not lines_:
        return 0
    con.execute("DELETE FROM delivered WHERE _source_line IN (SELECT unnest($lines))", {"lines": lines_})
    home.quarantine.mkdir(parents=True, exist_ok=True)
    reason = {
        "file_name": name,
        "sha256": sha,
        "reason_code": "duplicate_rows",
        "lines": lines_,
        "message": f"{name}: {len(lines_)} row(s) repeat an earlier row exactly (line(s) {lines_[:5]}); "
        "the first copy was loaded, the repeats were set aside. Nothing to do unless the "
        "export is expected to hold repeated lines.",
        "quarantined_at": utc_now().isoformat(),
    }
    write_atomic(home.quarantine / f"{name}.rows.reason.json", json.dumps(reason, indent=2))
    return len(lines_)


def quarantine_file(home: Home, path: Path, sha: str, rejection: Rejected) -> Path:
    """Copy the file into quarantine/ with its reason beside it (the landing copy is removed
    only after the manifest records the outcome)."""
    home.quarantine.mkdir(parents=True, exist_ok=True)
    target = home.quarantine / path.name
    if target.exists() and sha256_of(target) != sha:
        target = home.quarantine / f"{sha[:12]}_{path.name}"
    shutil.copy2(path, target)
    reason = {
        "file_name": path.name,
        "sha256": sha,
        "reason_code": rejection.code,
        "message": rejection.message,
        "details": rejection.details,
        "quarantined_at": utc_now().isoformat(),
    }
    write_atomic(target.with_name(target.name + ".reason.json"), json.dumps(reason, indent=2, ensure_ascii=False))
    return target


def finish_quarantine_move(home: Home, con, name: str, sha: str, path: Path) -> None:
    """A crash between recording a quarantine and removing the landed copy leaves the file in
    landing/; finish the move."""
    row = con.execute(
        "SELECT status, quarantine_path FROM meta.file_manifest WHERE file_name=$n AND sha256=$s", {"n": name, "s": sha}
    ).fetchone()
    if row and row[0] == "quarantined" and row[1] and Path(row[1]).exists():
        path.unlink(missing_ok=True)
