"""A known-good file for every landing contract, the starting point of every fault case.

From the sample world (every generator in ``ingest.sample_world.registry.GENERATORS``, run once at a tiny
scale; the first file a contract claims), else from the head of a real file mapped in
``external_samples.yml``. A contract with neither gets a message saying what to add.
"""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
from pathlib import Path

import yaml

from ingest.landing.contracts import Contract

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent.parent
# ../shared beside the project (the main checkout), or ../../shared (a worktree one level deeper).
EXTERNAL = (
    next(
        (p for p in (PROJECT.parent / "shared", PROJECT.parent.parent / "shared") if p.is_dir()),
        PROJECT.parent / "shared",
    )
    / "data"
    / "external"
)
EXTERNAL_MAP = HERE / "external_samples.yml"

# Two days a year apart: yearly sources (surveys alternate CSV and XLSX by year) write both kinds.
SAMPLE_DAYS = (dt.date(2010, 6, 1), dt.date(2011, 6, 1))
SAMPLE_PER_DAY = 30
SAMPLE_SEED = 11


class NoGoodFile(LookupError):
    pass


def generate_sample(landing: Path) -> None:
    from ingest.sample_world.registry import generate_all
    from ingest.sample_world.spec import SampleSpec

    generate_all(SampleSpec(landing, SAMPLE_DAYS, SAMPLE_PER_DAY, SAMPLE_SEED))


def _external_head(contract: Contract, entry: dict, target_dir: Path) -> Path:
    source = EXTERNAL / entry["path"]
    if not source.is_file():
        raise NoGoodFile(f"{contract.source_kind}: {EXTERNAL_MAP.name} maps it to {source}, which does not exist")
    opener = gzip.open if source.name.endswith(".gz") else open
    with opener(source, "rb") as fh:
        head = b"".join(line for _, line in zip(range(int(entry["head_lines"])), fh))
    target = target_dir / entry["name"]
    if not contract.file_name.match(target.name):
        raise NoGoodFile(
            f"{contract.source_kind}: name {target.name!r} in {EXTERNAL_MAP.name} does not match "
            f"the contract's file_name {contract.file_name.pattern!r}"
        )
    target.write_bytes(gzip.compress(head, mtime=0) if contract.compression == "gzip" else head)
    return target


def good_file(contract: Contract, sample_landing: Path, target_dir: Path) -> Path:
    """A copy of a good file for ``contract`` in ``target_dir`` (raises NoGoodFile with advice)."""
    target_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(sample_landing.iterdir()):
        if path.is_file() and contract.file_name.match(path.name):
            return Path(shutil.copy2(path, target_dir / path.name))
    mapping = yaml.safe_load(EXTERNAL_MAP.read_text(encoding="utf-8")) or {}
    if contract.source_kind in mapping:
        return _external_head(contract, mapping[contract.source_kind], target_dir)
    raise NoGoodFile(
        f"no good file for source kind {contract.source_kind!r}: the sample world wrote no file matching "
        f"{contract.file_name.pattern!r}. Add a generator to ingest/sample_world.py GENERATORS, or, for a "
        f"real external format, map the head of a file under ../shared/data/external in "
        f"tests/faults/{EXTERNAL_MAP.name}; every source kind must go through the fault harness."
    )
