"""Sample world: Single Window usage statistics, one CSV per year.

Per year and agency that sets an import/export requirement: applications lodged through the
Single Window and all applications that needed that requirement. The yearly totals are whole
thousands and the Single Window share of them is exactly ``calibration.usage_rate_pct`` (the
seed's 4.3, 3.9, 19.3, 67.2, 91.6, 97.3 percent for 2006-2011).
"""

from __future__ import annotations

import numpy as np

from ingest.config import PRIVATE_FILE
from ingest.files import write_atomic
from ingest.sample_world import calibration
from ingest.sample_world.files import year_file_date
from ingest.sample_world.spec import Generated

AGENCIES = (
    ("MFDS", "Ministry of Food and Drug Safety"),
    ("APQA", "Animal and Plant Quarantine Agency"),
    ("NFQS", "National Fishery Products Quality Management Service"),
    ("KATS", "Korean Agency for Technology and Standards"),
    ("MOE", "Ministry of Environment"),
    ("KCSA", "Korea Customs Brokers Association"),
    ("NRA", "Radio Research Agency"),
)
HEADER = ("year", "agency_code", "agency_name", "sw_applications", "all_applications")


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total``."""
    exact = total * weights / weights.sum()
    out = np.floor(exact).astype(np.int64)
    short = total - int(out.sum())
    out[np.argsort(-(exact - out), kind="stable")[:short]] += 1
    return out


def simulate_year(year: int, seed: int) -> dict[str, list]:
    rng = np.random.default_rng([seed, year, 6])
    growth = 1.0 + 0.04 * max(year - 2006, 0)
    all_total = int(round(1_200 * growth)) * 1_000  # whole thousands: the rate is exact
    sw_total = round(all_total * round(calibration.usage_rate_pct(year) * 10)) // 1000
    weights = rng.dirichlet(np.full(len(AGENCIES), 4.0))
    all_apps = _largest_remainder(all_total, weights)
    sw_apps = _largest_remainder(sw_total, all_apps.astype(float))
    return {
        "year": [year] * len(AGENCIES),
        "agency_code": [a[0] for a in AGENCIES],
        "agency_name": [a[1] for a in AGENCIES],
        "sw_applications": sw_apps.tolist(),
        "all_applications": all_apps.tolist(),
    }


def _csv_text(cols: dict[str, list]) -> str:
    lines = [",".join(HEADER)]
    for row in zip(*(cols[h] for h in HEADER)):
        lines.append(",".join(f'"{v}"' if isinstance(v, str) and "," in v else str(v) for v in row))
    return "\n".join(lines) + "\n"


def generate(spec, progress=None):

    files = rows = 0
    for year in spec.years:
        path = spec.landing / f"sw_usage_statistics_{year_file_date(spec, year):%Y%m%d}.csv"
        if path.exists():
            continue
        cols = simulate_year(year, spec.seed)
        write_atomic(path, _csv_text(cols), mode=PRIVATE_FILE)
        files += 1
        rows += len(cols["year"])
    return Generated("usage", files, rows, f"{files} yearly usage file(s)")
