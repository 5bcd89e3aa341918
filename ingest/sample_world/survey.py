"""Sample world: user-satisfaction survey exports, one file per survey wave.

Wide format, as survey tools export it: respondent id, wave, respondent segment, response date,
then one column per question item on a 1-5 Likert scale, with blanks where a respondent skipped
an item. Even years arrive as CSV (``satisfaction_survey_YYYYMMDD.csv``), odd years as an Excel
export (``satisfaction_survey_YYYYMMDD.xlsx``, sheet 'Responses', two title rows above the
header): two contracts, one staging model. Scores follow ``calibration.satisfaction_target``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from ingest.config import PRIVATE_FILE
from ingest.files import write_atomic
from ingest.sample_world import calibration
from ingest.sample_world.files import save_workbook_deterministic, year_file_date
from ingest.sample_world.spec import Generated

ITEMS = (
    "q01_overall_satisfaction",
    "q02_ease_of_use",
    "q03_processing_speed",
    "q04_system_stability",
    "q05_helpdesk_support",
    "q06_information_accuracy",
)
HEADER = ("respondent_id", "wave", "segment", "response_date") + ITEMS
SEGMENTS = ("BROKER", "IMPORTER", "EXPORTER", "FORWARDER", "OGA")
SEGMENT_SHARE = (0.35, 0.2, 0.2, 0.15, 0.1)
SEGMENT_OFFSET = np.array([2.0, 0.0, 1.0, -1.0, -3.0])  # points on the 0-100 scale
ITEM_BIAS = np.array([0.0, 0.05, 0.1, -0.1, -0.05, 0.0])  # Likert points
BLANK_SHARE = 0.03
RESPONDENTS_PER_WAVE = 240
SHEET = "Responses"
HEADER_ROW = 3
SCALE_POINTS = 5


def simulate_wave(
    year: int, seed: int, respondents: int = RESPONDENTS_PER_WAVE, answered_on: dt.date | None = None
) -> dict[str, list]:
    """One wave's responses as columns; item values are ints 1-5 or None (skipped)."""
    rng = np.random.default_rng([seed, year, 5])
    seg = rng.choice(len(SEGMENTS), size=respondents, p=SEGMENT_SHARE)
    target = calibration.satisfaction_target(year) + SEGMENT_OFFSET[seg]
    latent = 1.0 + (SCALE_POINTS - 1) * target / 100.0 + rng.normal(0.0, 0.45, respondents)
    raw = latent[:, None] + ITEM_BIAS[None, :] + rng.normal(0.0, 0.6, (respondents, len(ITEMS)))
    scores = np.clip(np.rint(raw), 1, SCALE_POINTS).astype(int)
    blank = rng.random(scores.shape) < BLANK_SHARE
    answered_on = answered_on or dt.date(year, 11, 30)
    days_back = rng.integers(0, 21, respondents)
    cols: dict[str, list] = {
        "respondent_id": [f"R{year % 100:02d}{i:04d}" for i in range(1, respondents + 1)],
        "wave": [f"{year}-01"] * respondents,
        "segment": [SEGMENTS[s] for s in seg],
        "response_date": [(answered_on - dt.timedelta(days=int(d))).isoformat() for d in days_back],
    }
    for j, item in enumerate(ITEMS):
        cols[item] = [None if b else int(v) for v, b in zip(scores[:, j], blank[:, j])]
    return cols


def _csv_text(cols: dict[str, list]) -> str:
    rows = zip(*(cols[h] for h in HEADER))
    lines = [",".join(HEADER)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    return "\r\n".join(lines) + "\r\n"


def _write_xlsx(path, year: int, cols: dict[str, list]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.cell(1, 1, f"UNI-PASS user satisfaction survey {year}, wave 1: responses")
    sheet.cell(2, 1, "Scale 1 (very dissatisfied) to 5 (very satisfied); blank = no answer")
    for j, name in enumerate(HEADER, 1):
        sheet.cell(HEADER_ROW, j, name)
    for i, row in enumerate(zip(*(cols[h] for h in HEADER)), HEADER_ROW + 1):
        for j, value in enumerate(row, 1):
            if value is not None:
                sheet.cell(i, j, value)
    save_workbook_deterministic(book, path)


def generate(spec, progress=None):

    files = rows = 0
    for year in spec.years:
        day = year_file_date(spec, year, 11, 30)
        stem = f"satisfaction_survey_{day:%Y%m%d}"
        fmt = "csv" if year % 2 == 0 else "xlsx"
        path = spec.landing / f"{stem}.{fmt}"
        if path.exists():
            continue
        cols = simulate_wave(year, spec.seed, answered_on=day)
        if fmt == "csv":
            write_atomic(path, _csv_text(cols), mode=PRIVATE_FILE)
        else:
            _write_xlsx(path, year, cols)
        files += 1
        rows += len(cols["respondent_id"])
    return Generated("survey", files, rows, f"{files} survey wave(s), CSV in even years, XLSX in odd years")
