"""Setting files (and repeated rows) aside in quarantine/, each with a reason file beside it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb

from ingest.config import PRIVATE_FILE, Home
from ingest.files import replacing, sha256_of, write_atomic
from ingest.landing.checks import quote_ident
from ingest.landing.contracts import Contract
from ingest.landing.outcome import Rejected, utc_now

WITHHELD = "<withheld: pseudonymised column>"


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
    write_atomic(home.quarantine / f"{name}.rows.reason.json", json.dumps(reason, indent=2), mode=PRIVATE_FILE)
    return len(lines_)


def quarantine_file(home: Home, path: Path, sha: str, rejection: Rejected, name: str | None = None) -> Path:
    """Copy the file into quarantine/ (written beside, then renamed, owner-only) with its reason
    beside it; the landing copy is removed only after the manifest records the outcome."""
    name = name or path.name
    home.quarantine.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = home.quarantine / name
    if target.exists() and sha256_of(target) != sha:
        target = home.quarantine / f"{sha[:12]}_{name}"
    with replacing(target, mode=PRIVATE_FILE) as tmp:
        shutil.copy2(path, tmp)
    reason = {
        "file_name": name,
        "sha256": sha,
        "reason_code": rejection.code,
        "message": rejection.message,
        "details": rejection.details,
        "quarantined_at": utc_now().isoformat(),
    }
    write_atomic(
        target.with_name(target.name + ".reason.json"),
        json.dumps(reason, indent=2, ensure_ascii=False),
        mode=PRIVATE_FILE,
    )
    return target


def withhold_pseudonymised(con, contract: Contract | None, rejection: Rejected) -> None:
    """Take every value of a pseudonymised column out of a rejection's message and details,
    whichever check quoted it: the manifest (in the warehouse), ``swpm status`` and the reason
    file must never hold one in clear. The door's checks already leave them out; this makes
    sure of it for every message."""
    secret_columns = [c.name for c in contract.columns if c.pseudonymise] if contract else []
    if not secret_columns:
        return
    text = rejection.message + json.dumps(rejection.details, ensure_ascii=False, default=str)
    found: set[str] = set()
    for column in secret_columns:
        try:
            found |= {
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT {quote_ident(column)} FROM delivered "
                    f"WHERE length({quote_ident(column)}) >= 3 AND contains($text, {quote_ident(column)})",
                    {"text": text},
                ).fetchall()
            }
        except duckdb.Error:
            return  # the file was never read into rows, so no message quotes one of its values
    if not found:
        return
    pattern = re.compile("|".join(re.escape(v) for v in sorted(found, key=len, reverse=True)))
    rejection.message = pattern.sub(WITHHELD, rejection.message)
    rejection.details = json.loads(
        pattern.sub(WITHHELD, json.dumps(rejection.details, ensure_ascii=False, default=str))
    )


def finish_quarantine_move(home: Home, con, name: str, sha: str, path: Path) -> None:
    """A crash between recording a quarantine and removing the landed copy leaves the file in
    landing/; finish the move."""
    row = con.execute(
        "SELECT status, quarantine_path FROM meta.file_manifest WHERE file_name=$n AND sha256=$s", {"n": name, "s": sha}
    ).fetchone()
    if row and row[0] == "quarantined" and row[1] and Path(row[1]).exists():
        path.unlink(missing_ok=True)


def finish_interrupted_moves(home: Home, con) -> list[str]:
    """Files recorded as quarantined that are still in landing/ (a run killed between the
    record and the removal): remove the landing copy once the quarantined copy is whole, else
    copy it again first. Returns the names repaired."""
    landed = {p.name for p in home.landing.iterdir() if p.is_file() and not p.is_symlink()}
    if not landed:
        return []
    rows = con.execute(
        "SELECT file_name, sha256, quarantine_path, reason_code, message FROM meta.file_manifest "
        "WHERE status = 'quarantined' AND quarantine_path IS NOT NULL AND file_name IN (SELECT unnest($names))",
        {"names": sorted(landed)},
    ).fetchall()
    repaired = []
    for name, sha, kept, code, message in rows:
        path = home.landing / name
        if sha256_of(path) != sha:
            continue  # a new version under the same name: the next load takes it
        target = Path(kept)
        if not (target.is_file() and sha256_of(target) == sha):
            with replacing(target, mode=PRIVATE_FILE) as tmp:
                shutil.copy2(path, tmp)
            reason = target.with_name(target.name + ".reason.json")
            if not reason.exists():
                text = {"file_name": name, "sha256": sha, "reason_code": code, "message": message}
                write_atomic(reason, json.dumps(text, indent=2, ensure_ascii=False), mode=PRIVATE_FILE)
        path.unlink()
        repaired.append(name)
    return repaired
