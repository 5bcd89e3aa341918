"""How the sample world writes its files: the same content always gives the same bytes (fixed
gzip headers, fixed workbook timestamps), written atomically; and the date a yearly file carries."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
import zipfile
from pathlib import Path

from ingest.config import PRIVATE_FILE
from ingest.files import replacing, write_atomic


def year_file_date(spec, year: int, month: int = 12, day: int = 31) -> dt.date:
    """The data date a yearly file carries: its usual date, or the end of the sampled span when
    that is earlier, so every file of the span is picked up by a run for the span's last day."""
    return min(dt.date(year, month, day), spec.end)


_FIXED_STAMP = (2000, 1, 1, 0, 0, 0)


def save_workbook_deterministic(book, path: Path) -> None:
    """Save an openpyxl workbook so the same content gives the same bytes (fixed document
    timestamps and zip entry times), atomically."""
    book.properties.creator = "swpm sample world"
    stamp = dt.datetime(*_FIXED_STAMP)
    book.properties.created = stamp
    book.properties.modified = stamp
    buf = io.BytesIO()
    book.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "now" at save time
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", data)
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_STAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, data)
    write_atomic(path, out.getvalue(), mode=PRIVATE_FILE)


def write_gzip_bytes(path: Path, payload: bytes, level: int = 6) -> None:
    """gzip ``payload`` into ``path`` with a fixed header (mtime 0, no file name), so the same
    content always gives the same bytes and the same checksum; rename into place so no reader
    sees half a file; owner-only, as every delivered file."""
    with replacing(path, mode=PRIVATE_FILE) as tmp, open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=level, mtime=0) as gz:
            gz.write(payload)
