"""The headline `swpm headline` prints: release time per year of air-cargo imports, read from
the published snapshot's ``trs_air_import_yearly`` (the one model that computes it)."""

from __future__ import annotations

import duckdb

from ingest.config import Home


def headline(home: Home) -> list[tuple]:
    """(year, declarations, released, mean, median, p90 days) per year; empty before a publish."""
    if not home.snapshot.exists():
        return []
    con = duckdb.connect(str(home.snapshot), read_only=True)
    try:
        return con.execute(
            "SELECT year, declarations, released, mean_days, median_days, p90_days "
            "FROM trs_air_import_yearly ORDER BY year"
        ).fetchall()
    finally:
        con.close()
