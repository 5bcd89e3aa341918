"""Writing a file so that no reader ever sees half of it: write beside it, then rename."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path


def read_yaml(path: Path):
    """A YAML file, read with libyaml's safe loader where PyYAML has it (the same documents as
    ``yaml.safe_load``, ten times faster: the landing contracts took 0.23 s of a night's load)."""
    import yaml

    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def part_path(path: Path) -> Path:
    """The hidden temporary name a file is written under before it is renamed into place
    (hidden: discovery and globbing skip dot-files)."""
    return path.with_name(f".{path.name}.part")


@contextlib.contextmanager
def replacing(path: Path, sync: bool = False, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; once the block has written it, rename it onto
    ``path`` (atomic on one file system). On an error the temporary file is removed and
    ``path`` is left as it was. With ``sync`` the data reaches the disk before the rename;
    with ``mode`` (e.g. 0o600) the file gets that mode before it appears under its name."""
    tmp = part_path(path)
    try:
        yield tmp
        if mode is not None:
            os.chmod(tmp, mode)
        if sync:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: bytes | str, sync: bool = False, mode: int | None = None) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary file and a rename."""
    with replacing(path, sync=sync, mode=mode) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
