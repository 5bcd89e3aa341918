"""What a sample world is asked for (:class:`SampleSpec`) and what a generator reports back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SampleSpec:
    landing: Path
    days: tuple[dt.date, ...]  # the sampled cohort days (clearance logs are written for these)
    declarations_per_day: int
    seed: int

    @property
    def start(self) -> dt.date:
        return self.days[0]

    @property
    def end(self) -> dt.date:
        return self.days[-1]

    @property
    def years(self) -> range:
        return range(self.start.year, self.end.year + 1)


@dataclass
class Generated:
    source: str
    files: int
    rows: int
    detail: str = ""
