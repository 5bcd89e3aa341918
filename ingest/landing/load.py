"""Landing -> raw: find new files, check them at the door, load good ones, quarantine bad ones.

Rules (the same for every source kind, driven by its contract):
- A file no contract claims, or whose name would escape ``landing/``, is quarantined.
- A file is checked whole before any row loads. Any contract breach (unreadable or truncated
  compression, wrong header, wrong type, unknown code, out-of-range value, duplicate key, empty
  file) quarantines the whole file: a nightly export is one delivery, and loading part of it
  would leave a day silently incomplete. The reason names the file, the column, example values
  and line numbers, and what to do.
- Loading is one transaction (rows and manifest entry together): a crash leaves either all of
  the file or none of it, and the next run picks it up again.
- The same content under the same name is a no-op; under another name it is quarantined as a
  duplicate delivery. A corrected file under the same name (other content) loads as a new
  version; staging keeps the latest version of each key.
- Every loaded row carries its lineage: source file, sha256, line, batch id, load time.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ingest import crashpoints
from ingest.config import Home
from ingest.landing import pseudonymise
from ingest.landing.checks import check_types, delivered_arrow, door_check, quote_ident, typed_sql
from ingest.landing.contracts import Contract, contract_for
from ingest.landing.discover import discover, safe_landing_path, sha256_of
from ingest.landing.outcome import FileOutcome, Rejected, utc_now
from ingest.landing.quarantine import finish_quarantine_move, quarantine_file, set_aside_exact_duplicates
from ingest.landing.read import check_header, read_text_rows
from ingest.warehouse import connect

__all__ = ["FileOutcome", "Rejected", "discover", "load_file", "sha256_of"]


def record_outcome(con, outcome: FileOutcome, size: int, data_date: str | None, batch_id: str) -> None:
    con.execute(
        """
        INSERT INTO meta.file_manifest VALUES
        ($file_name, $source_kind, $sha256, $size, $data_date, $batch_id, $status, $rows_landed,
         $rows_loaded, $rows_quarantined, $reason_code, $message, $quarantine_path, $now)
        ON CONFLICT DO NOTHING
        """,
        {
            "file_name": outcome.file_name,
            "source_kind": outcome.source_kind,
            "sha256": outcome.sha256,
            "size": size,
            "data_date": data_date,
            "batch_id": batch_id,
            "status": outcome.status,
            "rows_landed": outcome.rows_landed,
            "rows_loaded": outcome.rows_loaded,
            "rows_quarantined": outcome.rows_quarantined,
            "reason_code": outcome.reason_code,
            "message": outcome.message,
            "quarantine_path": outcome.quarantine_path,
            "now": utc_now(),
        },
    )


def load_file(home: Home, path: Path | str, batch_id: str, con=None) -> FileOutcome:
    """Check one landed file and load it, or set it aside; always leaves a manifest entry.
    ``con``: a writer connection to reuse (``ingest.run.loading`` loads a group of files on one,
    sparing each file DuckDB's open and checkpoint); by default the file opens its own."""
    home.ensure()
    writer = contextlib.nullcontext(con) if con is not None else connect(home)
    path = Path(path)
    name = path.name
    try:
        path = safe_landing_path(home, path)
    except Rejected as rej:
        # Nothing is moved: the path is outside our folder. The manifest still says why.
        outcome = FileOutcome(
            name,
            "quarantined",
            reason_code=rej.code,
            message=rej.message,
            sha256=sha256_of(path) if path.is_file() else "-",
        )
        with writer as con:
            record_outcome(con, outcome, path.stat().st_size if path.is_file() else 0, None, batch_id)
        return outcome

    sha = sha256_of(path)
    size = path.stat().st_size
    contract = contract_for(name)
    outcome = FileOutcome(name, "loaded", source_kind=contract.source_kind if contract else None, sha256=sha)
    data_date = contract.data_date(name) if contract else None
    # A missing key is a configuration error, not a bad file: fail loudly, record nothing, and
    # leave the file in landing/ for the next run.
    secret = pseudonymise.key() if contract and any(c.pseudonymise for c in contract.columns) else None

    with writer as con:
        seen = con.execute(
            "SELECT file_name, status FROM meta.file_manifest WHERE sha256 = $sha AND status = 'loaded'",
            {"sha": sha},
        ).fetchall()
        if con.execute(
            "SELECT 1 FROM meta.file_manifest WHERE file_name = $n AND sha256 = $s", {"n": name, "s": sha}
        ).fetchone():
            finish_quarantine_move(home, con, name, sha, path)
            return FileOutcome(name, "skipped", outcome.source_kind, sha, message="already recorded")
        in_transaction = False
        try:
            if contract is None:
                raise Rejected(
                    "unknown_source",
                    f"{name}: no landing contract claims this file name; "
                    "rename it to a documented pattern (docs/landing-contracts.md) or add a contract.",
                )
            if seen:
                raise Rejected(
                    "duplicate_content",
                    f"{name}: same content (sha256 {sha[:12]}...) as "
                    f"{seen[0][0]}, which is already loaded; nothing to do unless a different "
                    "file was meant to be sent.",
                )
            check_header(path, contract)
            read_text_rows(con, path, contract)
            outcome.rows_landed = con.execute("SELECT count(*) FROM delivered").fetchone()[0]
            if outcome.rows_landed == 0:
                raise Rejected(
                    "header_only",
                    f"{name}: header but no rows; if the day really had no "
                    "activity nothing is lost, otherwise ask the sender to export again.",
                    0,
                )
            repeats = set_aside_exact_duplicates(con, home, contract, name, sha)
            # GX checks the frame in a worker thread (pandas work, holding the GIL) while DuckDB,
            # which releases it, checks the types and writes the rows; the transaction commits
            # only after both passed, so a failing check never leaves rows behind.
            with ThreadPoolExecutor(max_workers=1) as pool:
                door = pool.submit(door_check, delivered_arrow(con, contract), contract, name)
                try:
                    check_types(con, contract, name)
                    con.execute("BEGIN")
                    in_transaction = True
                    _insert_rows(con, contract, name, sha, batch_id, secret)
                finally:
                    # GX's verdict comes first, as when it ran before the type checks: its
                    # Rejected takes the place of one the type checks raised.
                    door.result()
        except Rejected as rej:
            if in_transaction:
                con.execute("ROLLBACK")
            outcome.status = "quarantined"
            outcome.reason_code, outcome.message, outcome.details = rej.code, rej.message, rej.details
            if rej.rows_landed is not None:
                outcome.rows_landed = rej.rows_landed
            outcome.rows_quarantined = outcome.rows_landed or 0
            (home.quarantine / f"{name}.rows.reason.json").unlink(missing_ok=True)
            outcome.quarantine_path = str(quarantine_file(home, path, sha, rej))
            con.execute("BEGIN")
            record_outcome(con, outcome, size, data_date, batch_id)
            con.execute("COMMIT")
            path.unlink(missing_ok=True)
            return outcome

        outcome.rows_loaded = outcome.rows_landed - repeats
        outcome.rows_quarantined = repeats
        if repeats:
            outcome.reason_code = "duplicate_rows"
            outcome.message = (
                f"{repeats} exact repeat(s) of earlier rows set aside (quarantine/{name}.rows.reason.json)"
            )
        record_outcome(con, outcome, size, data_date, batch_id)
        crashpoints.reached("load:before_commit")
        con.execute("COMMIT")
        con.execute("DROP TABLE IF EXISTS delivered")
    return outcome


def _insert_rows(con, contract: Contract, name: str, sha: str, batch_id: str, secret) -> None:
    """The delivered rows into the raw table, typed (or pseudonymised), with their lineage."""
    params = {"file": name, "sha": sha, "batch": batch_id, "now": utc_now()}
    casts = []
    for c in contract.columns:
        ident = quote_ident(c.name)
        casts.append(pseudonymise.sql_expression(ident) if c.pseudonymise else typed_sql(c, ident))
    if any(c.pseudonymise for c in contract.columns):
        params.update(pseudonymise.sql_params(secret))
    con.execute(
        f"INSERT INTO {contract.raw_table} SELECT {', '.join(casts)}, $file, $sha, _source_line, $batch, $now FROM delivered",
        params,
    )
