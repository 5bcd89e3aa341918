"""Landing contracts: one YAML file per source kind in ``expectations/contracts/``.

A contract names the files of a source kind, their compression, encoding and columns (type,
required, allowed codes, pattern, range). It is the single source of truth for both the loader's
schema and the Great Expectations suite that checks every delivered file at the door.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from ingest.config import EXPECTATIONS_DIR
from ingest.files import read_yaml

CONTRACTS_DIR = EXPECTATIONS_DIR / "contracts"
TEMPORAL_TYPES = {"DATE", "TIMESTAMP", "DATETIME", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"}


@dataclass(frozen=True)
class MilestoneOrder:
    """Long-form events: for each ``key``, the first ``kind`` A of a pair must not come after
    the first ``kind`` B (``pairs`` of [A, B]), times from ``time``."""

    key: str
    kind: str
    time: str
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = True
    allowed: tuple[str, ...] | None = None
    regex: str | None = None
    min: object = None
    max: object = None
    description: str = ""
    format: str | None = None  # strptime pattern for DATE/TIMESTAMP text such as '%d/%m/%Y %H:%M'
    pseudonymise: bool = False  # replaced by a keyed hash at load (ingest.landing.pseudonymise)
    allow_future: bool = False  # DATE/TIMESTAMP: without ``max``, later than tomorrow is refused

    @property
    def is_temporal(self) -> bool:
        return self.type.upper().split("(")[0] in TEMPORAL_TYPES


@dataclass(frozen=True)
class Contract:
    source_kind: str
    file_name: re.Pattern
    columns: tuple[Column, ...]
    compression: str = "gzip"  # gzip | none
    encoding: str = "utf-8"
    delimiter: str = ","
    file_format: str = "csv"  # csv | xlsx
    sheet: str | None = None  # xlsx: the worksheet that holds the table
    header_row: int = 1  # xlsx: the row of the header (title rows above it are skipped)
    null_strings: tuple[str, ...] = ("",)  # text that means "missing", e.g. ServiceNow's '?'
    unique_key: tuple[str, ...] = ()
    milestone_order: MilestoneOrder | None = None  # order of events of one key (long form)
    column_order: tuple[tuple[str, str], ...] = ()  # per row: column A <= column B when both set
    # A header without rows is a quiet day (zero rows, loaded and recorded), not a faulty export.
    may_be_empty: bool = False
    description: str = ""
    path: Path | None = field(default=None, compare=False)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def raw_table(self) -> str:
        return f"raw.{self.source_kind}"

    def data_date(self, file_name: str) -> str | None:
        """The date a file's name carries, as YYYY-MM-DD, or None if it carries none."""
        m = self.file_name.match(file_name)
        if not m or "data_date" not in m.groupdict():
            return None
        d = m.group("data_date")
        return f"{d[0:4]}-{d[4:6]}-{d[6:8]}"

    def expectation_configs(self) -> list[dict]:
        """The GX expectations that enforce this contract on a file's rows (all read as text)."""
        out: list[dict] = [
            {"type": "expect_table_columns_to_match_ordered_list", "kwargs": {"column_list": self.column_names}},
        ]
        for col in self.columns:
            if col.required:
                out.append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": col.name}})
            if col.allowed:
                out.append(
                    {
                        "type": "expect_column_values_to_be_in_set",
                        "kwargs": {"column": col.name, "value_set": list(col.allowed)},
                    }
                )
            if col.regex:
                out.append(
                    {"type": "expect_column_values_to_match_regex", "kwargs": {"column": col.name, "regex": col.regex}}
                )
        if self.unique_key:
            if len(self.unique_key) == 1:
                out.append({"type": "expect_column_values_to_be_unique", "kwargs": {"column": self.unique_key[0]}})
            else:
                out.append(
                    {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": list(self.unique_key)}}
                )
        return out


class ContractError(ValueError):
    """A contract file the loader cannot enforce as written."""


def _check_pattern(path: Path, column: str, pattern: str | None) -> None:
    """The door matches patterns with RE2 (through Arrow, ``ingest.gx.validate_frame``): a
    pattern RE2 cannot compile (a lookaround, a backreference) would fail every file."""
    if pattern is None:
        return
    if not isinstance(pattern, str):
        raise ContractError(f"{path.name}: column '{column}': regex must be text, not {pattern!r}")
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.match_substring_regex(pa.array([""]), pattern=pattern)
    except pa.ArrowInvalid as exc:
        raise ContractError(
            f"{path.name}: column '{column}': regex {pattern!r} is not RE2 syntax, which the door "
            f"matches with (no lookarounds or backreferences): {exc}"
        ) from None


def _load(path: Path) -> Contract:
    spec = read_yaml(path)
    for c in spec["columns"]:
        _check_pattern(path, c["name"], c.get("regex"))
    columns = tuple(
        Column(
            name=c["name"],
            type=c["type"],
            required=c.get("required", True),
            allowed=tuple(str(v) for v in c["allowed"]) if c.get("allowed") else None,
            regex=c.get("regex"),
            min=c.get("min"),
            max=c.get("max"),
            description=c.get("description", ""),
            format=c.get("format"),
            pseudonymise=bool(c.get("pseudonymise", False)),
            allow_future=bool(c.get("allow_future", False)),
        )
        for c in spec["columns"]
    )
    return Contract(
        source_kind=spec["source_kind"],
        file_name=re.compile(spec["file_name"]),
        columns=columns,
        compression=spec.get("compression", "gzip"),
        encoding=spec.get("encoding", "utf-8"),
        delimiter=spec.get("delimiter", ","),
        file_format=spec.get("format", "csv"),
        sheet=spec.get("sheet"),
        header_row=int(spec.get("header_row", 1)),
        null_strings=tuple(str(s) for s in spec.get("null_strings", [""])),
        unique_key=tuple(spec.get("unique_key", ())),
        milestone_order=MilestoneOrder(
            key=spec["milestone_order"]["key"],
            kind=spec["milestone_order"]["kind"],
            time=spec["milestone_order"]["time"],
            pairs=tuple((str(a), str(b)) for a, b in spec["milestone_order"]["pairs"]),
        )
        if spec.get("milestone_order")
        else None,
        column_order=tuple((str(a), str(b)) for a, b in spec.get("column_order", ())),
        may_be_empty=bool(spec.get("may_be_empty", False)),
        description=spec.get("description", ""),
        path=path,
    )


def load_contracts(directory: Path | None = None) -> dict[str, Contract]:
    return _load_directory(directory or CONTRACTS_DIR)


@functools.cache
def _load_directory(directory: Path) -> dict[str, Contract]:
    contracts = {}
    for path in sorted(directory.glob("*.yml")):
        contract = _load(path)
        contracts[contract.source_kind] = contract
    return contracts


def contract_for(file_name: str) -> Contract | None:
    """The contract whose file-name pattern matches, or None for a file no contract claims."""
    for contract in load_contracts().values():
        if contract.file_name.match(file_name):
            return contract
    return None
