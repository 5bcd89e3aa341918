"""Deterministic gzip files, written atomically."""
from __future__ import annotations

import gzip
import os
from pathlib import Path


def write_gzip_bytes(path: Path, payload: bytes, level: int = 6) -> None:
    """gzip ``payload`` into ``path`` with a fixed header (mtime 0, no file name), so the same
    content always gives the same bytes and the same checksum; rename into place so no reader
    sees half a file."""
    tmp = path.with_name(f".{path.name}.part")
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=level, mtime=0) as gz:
            gz.write(payload)
    os.replace(tmp, path)
