"""Landing -> raw: find new files, check them at the door, load good ones, quarantine bad ones.

Rules (the same for every source kind, driven by its contract):
- A file no contract claims, or whose name would escape ``landing/``, is quarantined.
- A file is checked whole before any row loads. Any contract breach (unreadable or truncated
  compression, wrong header, wrong type, unknown code, out-of-range value, duplicate key, empty
  file) quarantines the whole file: a nightly export is one delivery, and loading part of it
  would leave a day silently incomplete. The reason names the file, the column, example values
  and line numbers, and what to do. A header without rows is a quiet day where the contract
  says the source may be empty (zero rows, loaded and recorded), a breach elsewhere.
- Loading is one transaction (rows, archived copy and manifest entry together): a crash, or a
  full disk, leaves either all of the file or none of it, and the next run picks it up again.
- The same content under the same name is a no-op; under another name it is quarantined as a
  duplicate delivery. A corrected file under the same name (other content) loads as a new
  version; staging keeps the latest version of each key.
- Every loaded row carries its lineage: source file, sha256, line, batch id, load time; the
  file version is kept in ``archive/`` and the manifest's record in its journal, so that
  ``swpm rebuild`` can rebuild a lost warehouse (ingest/landing/archive.py).
- One writer at a time: each file loads under the home's writer lock (ingest/run/lock.py).

Several files (``load_files``: a night's, a load task's group) load in turn through one
warehouse connection, while a worker thread runs the Great Expectations checks of the next
files ahead (ingest/landing/door_ahead.py): a verdict the same as checking the file on its own,
used only for the same content and the same rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from ingest import crashpoints
from ingest.config import PRIVATE_FILE, Home
from ingest.files import sha256_of
from ingest.landing import archive, pseudonymise
from ingest.landing.checks import check_types, delivered_arrow, quote_ident, typed_sql
from ingest.landing.contracts import Contract, contract_for
from ingest.landing.discover import discover, safe_landing_path
from ingest.landing.door_ahead import DoorAhead, DoorVerdict, verdict_of
from ingest.landing.outcome import FileOutcome, Rejected, utc_now
from ingest.landing.quarantine import (
    finish_quarantine_move,
    quarantine_file,
    set_aside_exact_duplicates,
    withhold_pseudonymised,
)
from ingest.landing.read import check_header, read_text_rows
from ingest.run.lock import home_lock
from ingest.warehouse import connect

__all__ = ["FileOutcome", "LoadFailed", "Rejected", "discover", "load_file", "load_files", "sha256_of"]


class LoadFailed(RuntimeError):
    """A file could not be loaded for a reason of this machine (disk full, I/O error), not of
    the file: nothing of it was loaded or recorded, and it stays in landing/."""


def record_outcome(
    con,
    outcome: FileOutcome,
    size: int,
    data_date: str | None,
    batch_id: str,
    recorded_at: dt.datetime | None = None,
    loaded_at: dt.datetime | None = None,
    archive_path: str | None = None,
) -> dict:
    """The file's row of meta.file_manifest (returned, for the journal)."""
    record = {
        "file_name": outcome.file_name,
        "source_kind": outcome.source_kind,
        "sha256": outcome.sha256,
        "size_bytes": size,
        "data_date": data_date,
        "batch_id": batch_id,
        "status": outcome.status,
        "rows_landed": outcome.rows_landed,
        "rows_loaded": outcome.rows_loaded,
        "rows_quarantined": outcome.rows_quarantined,
        "reason_code": outcome.reason_code,
        "message": outcome.message,
        "quarantine_path": outcome.quarantine_path,
        "recorded_at": recorded_at or utc_now(),
        "loaded_at": loaded_at,
        "archive_path": archive_path,
    }
    insert_record(con, record)
    return record


def insert_record(con, record: dict) -> None:
    """One row of meta.file_manifest, from a record (a journal line, for ``swpm rebuild``)."""
    columns = ", ".join(archive.MANIFEST_COLUMNS)
    values = ", ".join(f"${c}" for c in archive.MANIFEST_COLUMNS)
    row = {c: record.get(c) for c in archive.MANIFEST_COLUMNS}
    con.execute(f"INSERT INTO meta.file_manifest ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING", row)


def load_file(
    home: Home,
    path: Path | str,
    batch_id: str,
    *,
    as_name: str | None = None,
    loaded_at: dt.datetime | None = None,
    recorded_at: dt.datetime | None = None,
    journal: bool = True,
    con: duckdb.DuckDBPyConnection | None = None,
    checked_ahead: Callable[[], DoorVerdict | None] | None = None,
    gx_worker: ThreadPoolExecutor | None = None,
) -> FileOutcome:
    """Check one landed file and load it, or set it aside; leaves a manifest entry, except for
    a file that is no longer there (another run took it). ``as_name``, ``loaded_at``,
    ``recorded_at`` and ``journal`` are for ``swpm rebuild``, which reloads a kept file version
    under its delivered name and its first load time. ``con``, ``checked_ahead`` and
    ``gx_worker`` are ``load_files``'s: its open warehouse connection, this file's door verdict
    computed ahead (``DoorAhead.verdict``), and the thread that runs GX."""
    path = Path(path)
    with home_lock(home, what=f"load {as_name or path.name}", batch_id=batch_id):
        if not os.path.lexists(path):
            # Listed by a discovery, then loaded or set aside by another run before this one got
            # the lock: nothing to do, and nothing to record (the warehouse is not even opened).
            message = "no longer in landing/: another run loaded or set it aside"
            return FileOutcome(as_name or path.name, "skipped", message=message)
        committed: dict = {}
        try:
            with contextlib.ExitStack() as stack:
                if con is None:
                    con = stack.enter_context(connect(home, create=as_name is not None))
                if gx_worker is None:
                    gx_worker = stack.enter_context(ThreadPoolExecutor(max_workers=1))
                try:
                    outcome, record = _load_file(
                        home, con, path, batch_id, as_name, loaded_at, recorded_at, committed, checked_ahead, gx_worker
                    )
                except BaseException:
                    with contextlib.suppress(duckdb.Error):  # a shared connection goes on to the next file
                        con.execute("ROLLBACK")
                    raise
        except (OSError, duckdb.Error) as exc:  # a full disk fails DuckDB's commit as a TransactionException
            if committed:  # e.g. closing the connection after the commit, on a full disk
                raise LoadFailed(
                    f"{as_name or path.name}: {committed['status']} and recorded, but the work after the commit "
                    f"failed ({exc}); nothing to redo, the next run completes it.{_disk_hint(home, exc)}"
                ) from exc
            raise LoadFailed(
                f"{as_name or path.name}: the load failed ({exc}); nothing of it was loaded or recorded, "
                f"and it stays in landing/ for the next run.{_disk_hint(home, exc)}"
            ) from exc
        if record and journal:
            try:
                archive.journal_append(home, [record])
            except OSError as exc:
                raise LoadFailed(
                    f"{outcome.file_name}: {outcome.status} and recorded in the manifest, but its line in "
                    f"{home.manifest_journal} could not be written ({exc}); the next run writes it."
                    f"{_disk_hint(home, exc)}"
                ) from exc
        return outcome


def _disk_hint(home: Home, exc: Exception) -> str:
    full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    if full or "space left" in str(exc).lower():
        return f" The disk is full: free space under {home.root} and run again."
    return ""


def load_files(home: Home, paths: Iterable[Path | str], batch_id: str) -> Iterator[FileOutcome]:
    """Load files in turn, each as ``load_file`` does (its own checks, transaction and outcome),
    through one warehouse connection, under one hold of the writer lock, with the GX checks of
    the next files run ahead while one loads (ingest/landing/door_ahead.py). Yields each file's
    outcome as it is recorded."""
    paths = [Path(p) for p in paths]
    if not paths:
        return
    loaded_all = False
    try:
        with (
            home_lock(home, what=f"load {len(paths)} files", batch_id=batch_id),
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="swpm-gx") as gx_worker,
            connect(home) as con,
        ):
            ahead = DoorAhead(home, paths, gx_worker)
            for path in paths:
                verdict = functools.partial(ahead.verdict, path)
                yield load_file(home, path, batch_id, con=con, checked_ahead=verdict, gx_worker=gx_worker)
            loaded_all = True
    except (OSError, duckdb.Error) as exc:
        if not loaded_all:
            raise
        # Closing the connection (its checkpoint) failed, e.g. on a full disk.
        raise LoadFailed(
            f"the warehouse could not be closed after loading ({exc}): every file reported is committed and "
            f"recorded; the next run completes the rest.{_disk_hint(home, exc)}"
        ) from exc


def _load_file(
    home, con, path: Path, batch_id, as_name, loaded_at, recorded_at, committed: dict, checked_ahead, gx_worker
) -> tuple[FileOutcome, dict | None]:
    """The outcome, and the manifest record it committed (None when nothing was recorded);
    ``committed`` gets the status once the record is committed."""
    home.ensure()
    name = as_name or path.name
    restoring = as_name is not None
    if not restoring:
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
            size = path.stat().st_size if path.is_file() else 0
            record = record_outcome(con, outcome, size, None, batch_id)
            committed["status"] = outcome.status
            return outcome, record
        _make_private(path)

    sha = sha256_of(path)
    size = path.stat().st_size
    contract = contract_for(name)
    outcome = FileOutcome(name, "loaded", source_kind=contract.source_kind if contract else None, sha256=sha)
    data_date = contract.data_date(name) if contract else None
    # A missing key is a configuration error, not a bad file: fail loudly, record nothing, and
    # leave the file in landing/ for the next run.
    secret = pseudonymise.key() if contract and any(c.pseudonymise for c in contract.columns) else None

    seen = con.execute(
        "SELECT file_name, status FROM meta.file_manifest WHERE sha256 = $sha AND status = 'loaded'",
        {"sha": sha},
    ).fetchall()
    if con.execute(
        "SELECT 1 FROM meta.file_manifest WHERE file_name = $n AND sha256 = $s", {"n": name, "s": sha}
    ).fetchone():
        if not restoring:
            finish_quarantine_move(home, con, name, sha, path)
        return FileOutcome(name, "skipped", outcome.source_kind, sha, message="already recorded"), None
    in_transaction = False
    repeats = 0
    rows_at = loaded_at or utc_now()
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
        if outcome.rows_landed == 0 and not contract.may_be_empty:
            raise Rejected(
                "header_only",
                f"{name}: header but no rows, and the {contract.source_kind} contract does not allow an "
                "empty delivery (may_be_empty); ask the sender to export again, or declare the source "
                "may_be_empty if it can have quiet days.",
                0,
            )
        if outcome.rows_landed == 0:
            outcome.reason_code = "quiet_day"
            outcome.message = "header and no rows: a quiet day (the contract allows an empty delivery)"
            con.execute("BEGIN")
        else:
            repeats = set_aside_exact_duplicates(con, home, contract, name, sha)
            # A verdict checked ahead saw every delivered row: with repeats set aside, check again.
            ahead = None if repeats else checked_ahead
            _check_and_insert(con, contract, name, sha, batch_id, secret, rows_at, gx_worker, ahead)
        in_transaction = True
    except Rejected as rej:
        if in_transaction:
            con.execute("ROLLBACK")
        withhold_pseudonymised(con, contract, rej)
        outcome.status = "quarantined"
        outcome.reason_code, outcome.message, outcome.details = rej.code, rej.message, rej.details
        if rej.rows_landed is not None:
            outcome.rows_landed = rej.rows_landed
        outcome.rows_quarantined = outcome.rows_landed or 0
        (home.quarantine / f"{name}.rows.reason.json").unlink(missing_ok=True)
        outcome.quarantine_path = str(quarantine_file(home, path, sha, rej, name=name))
        crashpoints.reached("quarantine:after_copy")
        con.execute("BEGIN")
        record = record_outcome(con, outcome, size, data_date, batch_id, recorded_at)
        con.execute("COMMIT")
        committed["status"] = outcome.status
        if path.parent == home.landing.resolve():
            crashpoints.reached("quarantine:before_unlink")
            path.unlink(missing_ok=True)
        return outcome, record

    outcome.rows_loaded = outcome.rows_landed - repeats
    outcome.rows_quarantined = repeats
    if repeats:
        outcome.reason_code = "duplicate_rows"
        outcome.message = f"{repeats} exact repeat(s) of earlier rows set aside (quarantine/{name}.rows.reason.json)"
    # The version is kept before the commit: a load that cannot keep its file loads nothing.
    kept = archive.archive_file(home, path, name, sha)
    record = record_outcome(con, outcome, size, data_date, batch_id, recorded_at, rows_at, kept)
    crashpoints.reached("load:before_commit")
    con.execute("COMMIT")
    committed["status"] = outcome.status
    con.execute("DROP TABLE IF EXISTS delivered")
    return outcome, record


def _check_and_insert(
    con,
    contract: Contract,
    name: str,
    sha: str,
    batch_id: str,
    secret,
    loaded_at,
    gx_worker,
    ahead: Callable[[], DoorVerdict | None] | None,
) -> None:
    """The type checks and the contract's GX suite, then the rows into raw, in a transaction
    left open on return (nothing inserted on a Rejected). GX checks the frame in a worker thread
    (pandas work, holding the GIL) while DuckDB, which releases it, checks the types and writes
    the rows; the transaction commits only after both passed. ``ahead``: this file's verdict
    computed ahead, used when it is of this very content."""
    known = ahead() if ahead is not None else None  # a batch ahead of the load: usually ready
    if known is None or known.sha256 != sha:
        known = None
        checking = gx_worker.submit(verdict_of, delivered_arrow(con, contract), contract, name, sha)

    def verdict() -> DoorVerdict:
        return known if known is not None else checking.result()

    try:
        check_types(con, contract, name)
    except Rejected as typed:
        # GX's verdict comes first, as when it ran before the type checks: its Rejected
        # takes the place of one the type checks raised.
        raise verdict().rejected or typed from None
    con.execute("BEGIN")
    try:
        _insert_rows(con, contract, name, sha, batch_id, secret, loaded_at)
        rejected = verdict().rejected
        if rejected is not None:
            raise rejected
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


def _insert_rows(con, contract: Contract, name: str, sha: str, batch_id: str, secret, loaded_at) -> None:
    """The delivered rows into the raw table, typed (or pseudonymised), with their lineage."""
    params = {"file": name, "sha": sha, "batch": batch_id, "now": loaded_at}
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


def _make_private(path: Path) -> None:
    """A delivered file holds clear identifiers: owner-only, when this user owns it."""
    try:
        if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
            os.chmod(path, PRIVATE_FILE)
    except OSError:
        pass  # delivered by another user: the folder's mode keeps others out
