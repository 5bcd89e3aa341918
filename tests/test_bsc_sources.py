"""Balanced Scorecard sources: the sample world's survey, usage and ledger files are
deterministic, calibrated to the case study and pass their contracts; broken files are
quarantined at the door with a reason that names the sheet, column and row."""

from __future__ import annotations

import datetime as dt
import hashlib

import openpyxl
import pytest

from ingest.run import pipeline
from ingest.sample_world import files, ledger, survey, usage
from ingest.sample_world.registry import GENERATORS
from ingest.sample_world.spec import SampleSpec

SEED_USAGE = {2006: 4.3, 2007: 3.9, 2008: 19.3, 2009: 67.2, 2010: 91.6, 2011: 97.3}
BSC = ("survey", "usage", "ledger")


def _spec(landing, days=(dt.date(2010, 1, 1), dt.date(2011, 3, 1))):
    return SampleSpec(landing, tuple(days), 10, seed=3)


def _generate(landing, days=(dt.date(2010, 1, 1), dt.date(2011, 3, 1))):
    landing.mkdir(parents=True, exist_ok=True)
    return [GENERATORS[name](_spec(landing, days)) for name in BSC]


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    landing = tmp_path_factory.mktemp("bsc_src") / "landing"
    _generate(landing)
    return landing


def test_same_spec_same_bytes_and_second_run_writes_nothing(landed, tmp_path):
    again = _generate(tmp_path / "again")
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    names = sorted(p.name for p in landed.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "again").iterdir())
    assert {n.split("_2")[0] for n in names} == {"satisfaction_survey", "sw_usage_statistics", "sw_cost_ledger"}
    assert any(n.endswith(".csv") for n in names if n.startswith("satisfaction"))
    assert any(n.endswith(".xlsx") for n in names if n.startswith("satisfaction"))
    for name in names:
        assert digest(landed / name) == digest(tmp_path / "again" / name), name
    assert sum(g.files for g in again) == 6
    assert sum(g.files for g in _generate(tmp_path / "again")) == 0


def test_yearly_files_carry_data_dates_within_the_span(landed):
    from ingest.landing.contracts import contract_for

    for path in landed.iterdir():
        day = dt.date.fromisoformat(contract_for(path.name).data_date(path.name))
        assert dt.date(2010, 1, 1) <= day <= dt.date(2011, 3, 1), path.name


def test_usage_rates_are_the_seed_exactly():
    for year, rate in SEED_USAGE.items():
        cols = usage.simulate_year(year, seed=99)
        sw, total = sum(cols["sw_applications"]), sum(cols["all_applications"])
        assert round(100 * sw / total, 6) == rate, year
        assert all(s <= a for s, a in zip(cols["sw_applications"], cols["all_applications"]))


def _mean_100(year: int) -> float:
    cols = survey.simulate_wave(year, seed=5)
    answers = [v for item in survey.ITEMS for v in cols[item] if v is not None]
    return 100 * (sum(answers) / len(answers) - 1) / 4


def test_satisfaction_rises_with_usage_dips_in_2016_and_recovers():
    means = {y: _mean_100(y) for y in (2006, 2009, 2011, 2015, 2016, 2017, 2018)}
    assert means[2006] < means[2009] < means[2011]
    assert means[2016] < means[2015] - 5 and means[2017] > means[2016] + 5 and means[2018] > means[2016]
    blanks = sum(v is None for item in survey.ITEMS for v in survey.simulate_wave(2012, 5)[item])
    assert 0 < blanks < 0.1 * survey.RESPONDENTS_PER_WAVE * len(survey.ITEMS)


def test_cumulative_savings_overtake_cumulative_investment():
    lines = [line for year in range(2006, 2019) for line in ledger.simulate_year(year, seed=5)]
    years = sorted({line[0] for line in lines})
    assert years[0] == 2004  # the establishment stage started before the 2006 launch
    invest = savings = 0
    crossed = []
    for year in years:
        invest += sum(line[4] for line in lines if line[0] == year and line[2] == "Investment")
        savings += sum(line[4] for line in lines if line[0] == year and line[2] == "Savings")
        crossed.append(savings >= invest)
    assert not crossed[0] and crossed[-1]
    assert 2008 <= years[crossed.index(True)] <= 2012


def test_generated_files_load(landed, home):
    for f in landed.iterdir():
        (home.landing / f.name).write_bytes(f.read_bytes())
    outcomes = pipeline.load(home, "b1")
    assert {o.status for o in outcomes} == {"loaded"}, [o.message for o in outcomes if o.message]
    kinds = {o.source_kind for o in outcomes}
    assert kinds == {"satisfaction_survey_csv", "satisfaction_survey_xlsx", "sw_usage_statistics", "sw_cost_ledger"}


def _ledger_book(lines=None):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = ledger.SHEET
    sheet.cell(1, 1, "Single Window cost ledger")
    for j, name in enumerate(ledger.HEADER, 1):
        sheet.cell(ledger.HEADER_ROW, j, name)
    for i, line in enumerate(lines or [(2010, "Benefit", "Savings", "Booked", 1000)], ledger.HEADER_ROW + 1):
        for j, value in enumerate(line, 1):
            sheet.cell(i, j, value)
    return book


def _survey_csv(header=survey.HEADER, row=("R100001", "2010-01", "IMPORTER", "2010-11-02", 4, 5, "", 3, 2, 1)):
    return ",".join(header) + "\n" + ",".join(str(v) for v in row) + "\n"


def _wrong_sheet(path):
    book = _ledger_book()
    book.active.title = "Sheet1"
    book.save(path)


def _text_amount(path):
    _ledger_book(
        [(2010, "Benefit", "Savings", "Booked", 1000), (2010, "Operations", "Operating", "Hosting", "1.2 bn")]
    ).save(path)


def _unknown_cost_type(path):
    _ledger_book([(2010, "Benefit", "Savings", "Booked", 1000), (2010, "Operations", "Catering", "Hosting", 5)]).save(
        path
    )


def _missing_column(path):
    header = tuple(h for h in survey.HEADER if h != "q03_processing_speed")
    path.write_text(_survey_csv(header, ("R100001", "2010-01", "IMPORTER", "2010-11-02", 4, 5, 3, 2, 1)))


def _out_of_scale(path):
    path.write_text(_survey_csv(row=("R100001", "2010-01", "IMPORTER", "2010-11-02", 7, 5, "", 3, 2, 1)))


@pytest.mark.parametrize(
    "name, make, code, words",
    [
        ("sw_cost_ledger_20101231.xlsx", _wrong_sheet, "wrong_sheet", ["'Ledger'", "Sheet1"]),
        ("sw_cost_ledger_20111231.xlsx", _text_amount, "out_of_contract", ["'Amount (KRW)'", "1.2 bn", "line(s) [6]"]),
        # The door checks (GX) name the sheet row too, as the type checks do.
        (
            "sw_cost_ledger_20121231.xlsx",
            _unknown_cost_type,
            "out_of_contract",
            ["'Cost type'", "Catering", "line(s) [6]"],
        ),
        ("satisfaction_survey_20101130.csv", _missing_column, "header_mismatch", ["q03_processing_speed"]),
        ("satisfaction_survey_20121130.csv", _out_of_scale, "out_of_contract", ["q01_overall_satisfaction", "'7'"]),
    ],
)
def test_broken_files_are_quarantined_with_a_clear_reason(home, name, make, code, words):
    make(home.landing / name)
    [outcome] = pipeline.load(home, "b1")
    assert outcome.status == "quarantined" and outcome.reason_code == code, outcome.message
    for word in words:
        assert word in outcome.message, outcome.message
    assert (home.quarantine / f"{name}.reason.json").exists()
    assert not (home.landing / name).exists()


def test_a_ledger_with_title_rows_and_a_summary_sheet_loads(home):
    book = _ledger_book()
    book.create_sheet("Summary", 0)
    book.save(home.landing / "sw_cost_ledger_20101231.xlsx")
    [outcome] = pipeline.load(home, "b1")
    assert outcome.status == "loaded" and outcome.rows_loaded == 1


def test_year_file_date_stays_within_the_span(tmp_path):
    spec = _spec(tmp_path, (dt.date(2006, 1, 1), dt.date(2008, 6, 1)))
    assert [files.year_file_date(spec, y) for y in spec.years] == [
        dt.date(2006, 12, 31),
        dt.date(2007, 12, 31),
        dt.date(2008, 6, 1),
    ]
