"""Where a warehouse home lives and what it holds.

A home is one folder: ``landing/`` (files as delivered), ``quarantine/`` (files set aside,
each with a ``.reason.json``), ``warehouse/`` (the DuckDB file that loads write) and
``serving/`` (the read-only snapshot BI tools read).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DEFAULT_HOME = PROJECT_ROOT / "swpm_home"

MARTS_MODELS_DIR = DBT_PROJECT_DIR / "models" / "marts"


def published_marts() -> tuple[str, ...]:
    """Every model under dbt_project/models/marts/ is published: a new mart needs no Python."""
    return tuple(sorted(p.stem for p in MARTS_MODELS_DIR.rglob("*.sql")))


PUBLISHED_MARTS = published_marts()


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike | None = None) -> "Home":
        chosen = home or os.environ.get("SWPM_HOME") or DEFAULT_HOME
        return cls(Path(chosen).expanduser().resolve())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def warehouse(self) -> Path:
        return self.warehouse_dir / "swpm.duckdb"

    @property
    def serving(self) -> Path:
        return self.root / "serving"

    @property
    def gx_dir(self) -> Path:
        return self.warehouse_dir / "gx"

    def ensure(self) -> "Home":
        for folder in (self.landing, self.quarantine, self.warehouse_dir, self.serving):
            folder.mkdir(parents=True, exist_ok=True)
        return self
