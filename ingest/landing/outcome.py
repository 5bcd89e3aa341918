"""What the door says of a file: a rejection with its reason, or the outcome recorded in the manifest."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

EXAMPLE_CHARS = 60  # example values in messages are cut to this length (a line may be megabytes)


def short_value(value) -> str:
    text = str(value)
    return text if len(text) <= EXAMPLE_CHARS else f"{text[:EXAMPLE_CHARS]}...({len(text)} chars)"


class Rejected(Exception):
    """A file breaks its contract: ``code`` for machines, ``message`` for people."""

    def __init__(self, code: str, message: str, rows_landed: int | None = None, details: list | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.rows_landed = rows_landed
        self.details = details or []


@dataclass
class FileOutcome:
    file_name: str
    status: str  # loaded | quarantined | skipped
    source_kind: str | None = None
    sha256: str | None = None
    rows_landed: int | None = None
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reason_code: str | None = None
    message: str | None = None
    quarantine_path: str | None = None
    details: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
