"""The door's Great Expectations verdicts of the files still to load, computed ahead.

Great Expectations costs about 0.2 s a file whatever its size (its metric graph is built per
expectation), more than DuckDB takes to check and load a nightly file. So while one file loads,
a worker thread reads the next files into an in-memory DuckDB and validates them together:

- A batch is consecutive files of one contract, up to ``BATCH_FILES`` files and ``BATCH_ROWS``
  rows, validated as one frame. The first batches are small (1, 2, 4, ... files), so that the
  load starts at once.
- Every expectation a contract generates is a rule on each row (not null, in set, matches) or a
  uniqueness rule (``Contract.expectation_configs``): when the batch passes, each of its files
  passes on its own, so each gets a pass. When the batch fails, each file is validated on its
  own, which gives the file's own failures and line numbers.
- A suite with any other expectation type is validated file by file.

A verdict holds for one content (sha256) and the rows as delivered; the load uses it only for
those (not after setting repeated rows aside) and otherwise checks the file itself. A file over
``AHEAD_MAX_BYTES`` is not read ahead: reading it twice would cost more than GX's fixed cost, so
the load checks it on the rows it read, GX beside DuckDB's checks, as for a file on its own.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from ingest.config import Home
from ingest.files import sha256_of
from ingest.landing.checks import delivered_arrow, door_check
from ingest.landing.contracts import Contract, contract_for
from ingest.landing.discover import safe_landing_path
from ingest.landing.outcome import Rejected
from ingest.landing.read import check_header, read_text_rows

BATCH_FILES = 32
BATCH_ROWS = 250_000
AHEAD_MAX_BYTES = 256 << 10  # a nightly file of the sample world is 10-100 kB, a real day's 0.6-3.4 MB
# Expectations that pass on a batch only if they pass on each of its files.
BATCHABLE = {
    "expect_table_columns_to_match_ordered_list",  # every frame is built with the contract's columns
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
}


@dataclass(frozen=True)
class DoorVerdict:
    """The contract's GX suite over a file's delivered rows: ``rejected`` is None when it passed."""

    sha256: str
    rejected: Rejected | None


def verdict_of(table: pa.Table, contract: Contract, name: str, sha: str) -> DoorVerdict:
    try:
        door_check(table, contract, name)
    except Rejected as rej:
        return DoorVerdict(sha, rej)
    return DoorVerdict(sha, None)


@dataclass
class _Delivered:
    index: int
    name: str
    sha256: str
    contract: Contract
    table: pa.Table


class DoorAhead:
    """Verdicts of ``paths`` (in load order), a batch ahead of the load, on ``worker``: the one
    thread that runs Great Expectations for the load (GX is not run from two threads at once)."""

    def __init__(self, home: Home, paths: list[Path], worker: ThreadPoolExecutor):
        self.home, self.worker = home, worker
        self.paths = [p for p in paths if _small(p)]  # the files read ahead, in load order
        self._position = {p: i for i, p in enumerate(self.paths)}
        self._batches: list[Future] = []  # batch k: {file index: verdict or None}
        self._batch_of: dict[int, int] = {}
        self._next = 0  # first file not yet in a batch

    def verdict(self, path: Path) -> DoorVerdict | None:
        """The file's verdict (waits for its batch), None when the load must check it itself."""
        index = self._position.get(path)
        if index is None:
            return None
        while index not in self._batch_of:  # every file read ahead is in a batch by the last one
            self._submit_next()
        batch = self._batch_of[index]
        if batch + 1 == len(self._batches) and self._next < len(self.paths):
            self._submit_next()  # keep a batch in the works while this one loads
        return self._batches[batch].result().get(index)

    def _submit_next(self) -> None:
        start = self._next
        k = len(self._batches)
        self._next = min(start + min(2**k, BATCH_FILES), len(self.paths))
        for i in range(start, self._next):
            self._batch_of[i] = k
        self._batches.append(self.worker.submit(self._check, range(start, self._next)))

    def _check(self, indices: range) -> dict[int, DoorVerdict | None]:
        verdicts: dict[int, DoorVerdict | None] = {}
        run: list[_Delivered] = []
        for i in indices:
            delivered = self._read(i)
            if delivered is None:
                verdicts[i] = None
                continue
            if run and (delivered.contract != run[0].contract or _rows(run) + delivered.table.num_rows > BATCH_ROWS):
                verdicts.update(_validate(run))
                run = []
            run.append(delivered)
        if run:
            verdicts.update(_validate(run))
        return verdicts

    def _read(self, index: int) -> _Delivered | None:
        """The file's rows as the load will read them; None when it has none to check or cannot
        be read (the load meets the same problem and says what it is)."""
        try:
            path = safe_landing_path(self.home, self.paths[index])
            contract = contract_for(path.name)
            if contract is None:
                return None
            sha = sha256_of(path)
            check_header(path, contract)
            scratch = duckdb.connect()
            try:
                read_text_rows(scratch, path, contract)
                table = delivered_arrow(scratch, contract)
            finally:
                scratch.close()
        except Exception:  # noqa: BLE001 - whatever it is, the load meets it again and says so
            return None
        if table.num_rows == 0:
            return None
        return _Delivered(index, path.name, sha, contract, table)


def _small(path: Path) -> bool:
    try:
        return path.stat().st_size <= AHEAD_MAX_BYTES
    except OSError:
        return False


def _rows(run: list[_Delivered]) -> int:
    return sum(d.table.num_rows for d in run)


def _validate(run: list[_Delivered]) -> dict[int, DoorVerdict]:
    contract = run[0].contract
    batchable = len(run) > 1 and all(cfg["type"] in BATCHABLE for cfg in contract.expectation_configs())
    if batchable:
        together = verdict_of(pa.concat_tables(d.table for d in run).combine_chunks(), contract, run[0].name, "")
        if together.rejected is None:
            return {d.index: DoorVerdict(d.sha256, None) for d in run}
    return {d.index: verdict_of(d.table, contract, d.name, d.sha256) for d in run}
