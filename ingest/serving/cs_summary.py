"""Cargo Selectivity (C/S) inspection performance: the yearly summary `make demo` prints.

The work itself is declarative: the landing contract
``expectations/contracts/kcs_import_declarations.yml`` (pseudonymised parties), the dbt models
``stg_kcs__import_declarations`` -> ``int_cs_inspections`` -> ``cs_inspection_performance`` and
the checks in ``expectations/marts/cs_inspection.yml``. This module only reads the snapshot.
"""

from __future__ import annotations

import argparse

import duckdb

from ingest.config import Home

SUMMARY_SQL = """
    SELECT source, year(period_start) AS year, declarations_total, inspections, detections,
           critical_detections, round(100 * inspection_rate, 2), round(100 * hit_rate, 2),
           round(100 * critical_rate, 2)
    FROM cs_inspection_performance
    WHERE period_type = 'year' AND grouping_set = 'period'
    ORDER BY source DESC, year
"""


def yearly_summary(home: Home) -> list[tuple]:
    """Inspections and detection rates per source and year, from the published snapshot."""
    path = home.snapshot
    if not path.exists():
        return []
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        return con.execute(SUMMARY_SQL).fetchall() if "cs_inspection_performance" in tables else []
    finally:
        con.close()


def _fmt(value) -> str:
    return "-" if value is None else str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="C/S inspection performance per year, from the snapshot")
    parser.add_argument("--home", default=None)
    args = parser.parse_args(argv)
    rows = yearly_summary(Home.resolve(args.home))
    if not rows:
        print("C/S inspection performance: no published rows yet")
        return 0
    print("C/S inspection performance per year (rates in %; '-' = not known from that source)")
    print(
        f"{'source':<14} {'year':>4} {'declarations':>12} {'inspected':>9} {'detected':>8} {'critical':>8} "
        f"{'insp.rate':>9} {'hit rate':>8} {'crit.rate':>9}"
    )
    for r in rows:
        print(
            f"{r[0]:<14} {r[1]:>4} {_fmt(r[2]):>12} {r[3]:>9} {r[4]:>8} {_fmt(r[5]):>8} "
            f"{_fmt(r[6]):>9} {_fmt(r[7]):>8} {_fmt(r[8]):>9}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
