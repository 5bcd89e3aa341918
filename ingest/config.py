"""Where a warehouse home lives and what it holds.

A home is one folder: ``landing/`` (files as delivered), ``quarantine/`` (files set aside,
each with a ``.reason.json``), ``archive/`` (every loaded version of every file, by content, and
the manifest's journal: what ``swpm rebuild`` rebuilds the warehouse from), ``warehouse/`` (the
DuckDB file that loads write) and ``serving/`` (the read-only snapshot BI tools read).

``landing/``, ``quarantine/`` and ``archive/`` hold files as delivered, with the clear
identifiers that pseudonymisation keeps out of the warehouse: they are created owner-only
(0700), and swpm writes the files in them owner-only (0600).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class ProjectNotFound(RuntimeError):
    """The Python package runs the project's dbt models and contracts: without them there is
    nothing to load against, build or publish."""


def _project_root() -> Path:
    """The folder holding dbt_project/ and expectations/: $SWPM_PROJECT_DIR, else the checkout
    this package sits in (an editable install, or the source tree on the path). A wheel
    installed elsewhere has neither, and says so at once instead of publishing nothing."""
    chosen = os.environ.get("SWPM_PROJECT_DIR")
    root = Path(chosen).expanduser().resolve() if chosen else Path(__file__).resolve().parent.parent
    missing = [name for name in ("dbt_project/dbt_project.yml", "expectations/contracts") if not (root / name).exists()]
    if missing:
        raise ProjectNotFound(
            f"swpm: the project's {' and '.join(missing)} not found under {root}. The swpm package runs "
            "the dbt project and the landing contracts of its repository: install it from a checkout "
            "(`make setup`, an editable install), or set SWPM_PROJECT_DIR to the checkout's folder."
        )
    return root


PROJECT_ROOT = _project_root()
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DEFAULT_HOME = PROJECT_ROOT / "swpm_home"

MARTS_MODELS_DIR = DBT_PROJECT_DIR / "models" / "marts"


def published_marts() -> tuple[str, ...]:
    """Every model under dbt_project/models/marts/ is published: a new mart needs no Python."""
    marts = tuple(sorted(p.stem for p in MARTS_MODELS_DIR.rglob("*.sql")))
    if not marts:
        raise ProjectNotFound(f"swpm: no mart models under {MARTS_MODELS_DIR}: nothing would be published.")
    return marts


PUBLISHED_MARTS = published_marts()


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike | None = None) -> Home:
        chosen = home or os.environ.get("SWPM_HOME") or DEFAULT_HOME
        return cls(Path(chosen).expanduser().resolve())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def archive(self) -> Path:
        """Every loaded file version (``<sha256[:16]>_<name>``) and ``manifest.jsonl``."""
        return self.root / "archive"

    @property
    def manifest_journal(self) -> Path:
        """The file manifest's journal, one JSON line per record, kept outside the warehouse."""
        return self.archive / "manifest.jsonl"

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
    def snapshot(self) -> Path:
        """The published read-only snapshot BI tools and the report read."""
        return self.serving / "marts.duckdb"

    @property
    def snapshot_info(self) -> Path:
        return self.serving / "snapshot.json"

    @property
    def gx_dir(self) -> Path:
        return self.warehouse_dir / "gx"

    def ensure(self) -> Home:
        for folder in (self.landing, self.quarantine, self.archive):
            if not folder.is_dir():
                folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
                os.chmod(folder, PRIVATE_FOLDER)  # whatever the umask
        for folder in (self.warehouse_dir, self.serving):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def private_folders(self) -> tuple[Path, ...]:
        """The folders that hold files as delivered (clear identifiers): owner-only."""
        return (self.landing, self.quarantine, self.archive)


PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
