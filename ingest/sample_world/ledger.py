"""Sample world: the Single Window cost ledger, one Excel workbook per year, as accountants keep it.

Sheet 'Ledger' (the one the contract reads) holds one long table below two title rows and a
blank row: Year | Stage | Cost type | Item | Amount (KRW). Cost types: Investment (per
establishment or expansion stage), Operating, Savings (booked reduction of clearance-related
logistics costs). A 'Summary' sheet sits before it, as in real workbooks. The 2006 workbook
also carries the establishment years 2004-2005 (the project started in 2004).
Calibrated so that cumulative savings overtake cumulative investment (docs/domain.md#cost-and-benefit).
"""

from __future__ import annotations

import numpy as np

from ingest.sample_world import calibration
from ingest.sample_world.files import save_workbook_deterministic, year_file_date
from ingest.sample_world.spec import Generated

SHEET = "Ledger"
HEADER_ROW = 4
HEADER = ("Year", "Stage", "Cost type", "Item", "Amount (KRW)")
BILLION = 1_000_000_000

# Investment per year, billions of KRW, by stage.
INVESTMENT_BN = {
    2004: ("Establishment", 12.0),
    2005: ("Establishment", 18.0),
    2006: ("Establishment", 15.0),
    2008: ("Expansion 1", 10.0),
    2009: ("Expansion 1", 8.0),
    2012: ("Expansion 2", 9.0),
    2013: ("Expansion 2", 7.0),
    2014: ("4th generation", 30.0),
    2015: ("4th generation", 40.0),
    2016: ("4th generation", 25.0),
}
INVESTMENT_ITEMS = ("Hardware and network", "Application development", "Consulting and supervision")
INVESTMENT_SPLIT = np.array([0.35, 0.5, 0.15])
OPERATING_ITEMS = ("Maintenance contract", "Hosting and network")
# Booked savings at full usage, billions of KRW a year; they grow with the usage rate.
SAVINGS_AT_FULL_USAGE_BN = 62.0


def _krw(bn: np.ndarray) -> list[int]:
    return [int(v) * 1000 for v in np.rint(np.asarray(bn) * BILLION / 1000)]


def simulate_year(year: int, seed: int) -> list[tuple]:
    """The ledger lines booked for ``year`` (and, in 2006, the years before the launch)."""
    rng = np.random.default_rng([seed, year, 7])
    lines: list[tuple] = []
    for y in [2004, 2005, 2006] if year == 2006 else [year]:
        if y in INVESTMENT_BN:
            stage, bn = INVESTMENT_BN[y]
            split = rng.dirichlet(INVESTMENT_SPLIT * 60)
            lines += [(y, stage, "Investment", item, amt) for item, amt in zip(INVESTMENT_ITEMS, _krw(bn * split))]
        if y >= 2006:
            opex = 3.0 + 0.3 * (y - 2006)
            lines += [
                (y, "Operations", "Operating", item, amt)
                for item, amt in zip(OPERATING_ITEMS, _krw(opex * np.array([0.7, 0.3])))
            ]
            maturity = 1.0 + 0.02 * max(y - 2011, 0)
            saving = SAVINGS_AT_FULL_USAGE_BN * calibration.usage_rate_pct(y) / 100 * maturity
            saving *= rng.uniform(0.95, 1.05)
            lines.append((y, "Benefit", "Savings", "Logistics cost reduction (booked)", _krw([saving])[0]))
    return lines


def _write(path, year: int, lines: list[tuple]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    summary = book.active
    summary.title = "Summary"
    summary.append([f"Single Window cost ledger {year}: totals by cost type (KRW)"])
    for kind in ("Investment", "Operating", "Savings"):
        summary.append([kind, sum(line[4] for line in lines if line[2] == kind)])
    sheet = book.create_sheet(SHEET)
    sheet.cell(1, 1, f"Single Window cost ledger {year}")
    sheet.cell(
        2,
        1,
        "Amounts in KRW. Investment by establishment/expansion stage; operating costs; booked logistics-cost savings.",
    )
    for j, name in enumerate(HEADER, 1):
        sheet.cell(HEADER_ROW, j, name)
    for i, line in enumerate(lines, HEADER_ROW + 1):
        for j, value in enumerate(line, 1):
            sheet.cell(i, j, value)
    save_workbook_deterministic(book, path)


def generate(spec, progress=None):

    files = rows = 0
    for year in spec.years:
        path = spec.landing / f"sw_cost_ledger_{year_file_date(spec, year):%Y%m%d}.xlsx"
        if path.exists():
            continue
        lines = simulate_year(year, spec.seed)
        _write(path, year, lines)
        files += 1
        rows += len(lines)
    return Generated("ledger", files, rows, f"{files} yearly ledger workbook(s)")
