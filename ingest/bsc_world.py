"""Shared pieces of the Balanced Scorecard sample world: the case study's calibration, the date a
yearly file carries, and deterministic XLSX writing (survey and ledger generators use them).

Calibration (shared/seeds, DOMAIN.md sections 5 and 6):
- usage rate of the Single Window 2006-2011 exactly the seed's table (``USAGE_RATE_PCT``), then
  a slow approach to 100 %;
- satisfaction rising with usage after the 2006 launch, a dip in 2016 (4th-generation UNI-PASS
  went live) and a recovery (``satisfaction_target``);
- staged investment (establishment 2004-2006, expansions, 4th generation 2014-2016) overtaken
  by booked logistics-cost savings that grow with usage (``ledger``).
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from pathlib import Path

# Percent of requirement applications lodged through the Single Window. 2006-2011: the seed.
USAGE_RATE_PCT = {
    2006: 4.3, 2007: 3.9, 2008: 19.3, 2009: 67.2, 2010: 91.6, 2011: 97.3,
    2012: 98.1, 2013: 98.6, 2014: 98.9, 2015: 99.1, 2016: 99.2, 2017: 99.4, 2018: 99.5,
}


def usage_rate_pct(year: int) -> float:
    if year in USAGE_RATE_PCT:
        return USAGE_RATE_PCT[year]
    return 0.0 if year < 2006 else 99.5


def satisfaction_target(year: int) -> float:
    """Mean satisfaction (0-100) the sample world aims for: follows usage, dips in 2016."""
    base = 52.0 + 32.0 * usage_rate_pct(year) / 100.0 + 0.6 * max(year - 2011, 0)
    if year == 2016:
        base -= 12.0  # new system launched: transitory problems
    elif year == 2017:
        base -= 3.0
    return min(base, 95.0)


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
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(out.getvalue())
    os.replace(tmp, path)


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(text.encode("utf-8"))
    os.replace(tmp, path)
