"""The loader's contract options for formats other than the clearance logs: plain CSV with a
'missing' marker and day-first timestamps, XLSX sheets below title rows, keyed pseudonyms."""

from __future__ import annotations

import datetime as dt
import gzip
import shutil

import duckdb
import pytest

from ingest.landing import contracts, pseudonymise
from ingest.landing import load as loader

CONTRACTS = {
    "fmt_tickets.yml": """
source_kind: fmt_tickets
file_name: '^fmt_tickets_(?P<data_date>\\d{8})\\.csv$'
compression: none
null_strings: ['', '?']
unique_key: [number]
columns:
  - {name: number, type: VARCHAR, regex: '^T\\d+$'}
  - {name: opened_at, type: TIMESTAMP, format: '%d/%m/%Y %H:%M'}
  - {name: owner, type: VARCHAR, required: false, pseudonymise: true}
  - {name: hours, type: DOUBLE, required: false, min: 0}
""",
    "fmt_ledger.yml": """
source_kind: fmt_ledger
file_name: '^fmt_ledger_(?P<data_date>\\d{8})\\.xlsx$'
format: xlsx
sheet: Ledger
header_row: 3
columns:
  - {name: Year, type: INTEGER, min: 2000}
  - {name: Item, type: VARCHAR}
  - {name: Amount (KRW), type: BIGINT}
""",
}


@pytest.fixture
def custom_contracts(tmp_path, monkeypatch):
    folder = tmp_path / "contracts"
    folder.mkdir()
    for name, text in CONTRACTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(contracts, "CONTRACTS_DIR", folder)
    monkeypatch.setenv(pseudonymise.KEY_ENV, "test-key-0123456789abcdef")
    return folder


def _ledger(path, sheet="Ledger", amount=1_500_000_000):
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(["Single Window cost ledger"])  # title rows, as accountants keep them
    ws.append([])
    ws.append(["Year", "Item", "Amount (KRW)"])
    ws.append([2006, "Establishment", amount])
    ws.append([])
    ws.append([2007.0, "Operation", 20_000_000])
    book.save(path)


def _raw(home, table):
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.execute(
            f"SELECT * EXCLUDE (_batch_id, _loaded_at) FROM raw.{table} ORDER BY _source_line"
        ).fetchall()


def test_plain_csv_with_missing_marker_day_first_times_and_pseudonyms(home, custom_contracts):
    path = home.landing / "fmt_tickets_20160229.csv"
    path.write_text("number,opened_at,owner,hours\nT1,29/2/2016 01:16,Caller 2403,1.5\nT2,1/3/2016 23:05,?,?\n")
    outcome = loader.load_file(home, path, "b1")
    assert outcome.status == "loaded", outcome.message
    rows = _raw(home, "fmt_tickets")
    assert [r[:2] for r in rows] == [("T1", dt.datetime(2016, 2, 29, 1, 16)), ("T2", dt.datetime(2016, 3, 1, 23, 5))]
    secret = pseudonymise.key()
    assert rows[0][2] == pseudonymise.pseudonym("Caller 2403", secret) and rows[1][2] is None
    assert rows[1][3] is None
    assert "Caller 2403" not in home.warehouse.read_bytes().decode("latin-1")


def test_day_first_time_in_another_format_is_reported_with_the_format(home, custom_contracts):
    path = home.landing / "fmt_tickets_20160301.csv"
    path.write_text("number,opened_at,owner,hours\nT1,2016-03-01 01:16,x,1\n")
    outcome = loader.load_file(home, path, "b1")
    assert outcome.status == "quarantined"
    assert "opened_at" in outcome.message and "%d/%m/%Y %H:%M" in outcome.message and "line(s) [2]" in outcome.message


def test_gzip_where_plain_csv_is_expected_is_quarantined(home, custom_contracts):
    path = home.landing / "fmt_tickets_20160302.csv"
    path.write_bytes(gzip.compress(b"number,opened_at,owner,hours\n"))
    outcome = loader.load_file(home, path, "b1")
    assert (outcome.status, outcome.reason_code) == ("quarantined", "not_plain_text")


def test_missing_key_fails_loudly_and_leaves_the_file_in_landing(home, custom_contracts, monkeypatch):
    monkeypatch.delenv(pseudonymise.KEY_ENV)
    path = home.landing / "fmt_tickets_20160303.csv"
    path.write_text("number,opened_at,owner,hours\nT1,3/3/2016 01:16,x,1\n")
    with pytest.raises(pseudonymise.MissingKey, match="SWPM_PSEUDONYM_KEY"):
        loader.load_file(home, path, "b1")
    assert path.exists() and not list(home.quarantine.iterdir())
    if home.warehouse.exists():
        with duckdb.connect(str(home.warehouse), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM meta.file_manifest").fetchone()[0] == 0


def test_xlsx_sheet_below_title_rows_loads_with_spreadsheet_line_numbers(home, custom_contracts):
    path = home.landing / "fmt_ledger_20071231.xlsx"
    _ledger(path)
    outcome = loader.load_file(home, path, "b1")
    assert outcome.status == "loaded", outcome.message
    rows = [(r[0], r[1], r[2], r[3], r[5]) for r in _raw(home, "fmt_ledger")]
    assert rows == [(2006, "Establishment", 1_500_000_000, path.name, 4), (2007, "Operation", 20_000_000, path.name, 6)]


@pytest.mark.parametrize(
    "fault, code, words",
    [
        ("sheet", "wrong_sheet", ["'Ledger'", "Sheet1"]),
        ("amount", "out_of_contract", ["Amount (KRW)", "BIGINT", "line(s) [4]"]),
        ("not_xlsx", "not_xlsx", [".xlsx"]),
    ],
)
def test_bad_xlsx_is_quarantined_with_a_reason(home, custom_contracts, fault, code, words):
    path = home.landing / "fmt_ledger_20081231.xlsx"
    if fault == "sheet":
        _ledger(path, sheet="Sheet1")
    elif fault == "amount":
        _ledger(path, amount="1.5 billion")
    else:
        shutil.copyfile(__file__, path)
    outcome = loader.load_file(home, path, "b1")
    assert (outcome.status, outcome.reason_code) == ("quarantined", code), outcome.message
    for word in words:
        assert word in outcome.message
    assert (home.quarantine / (path.name + ".reason.json")).exists()


def test_a_bad_identifier_is_not_quoted_in_clear_in_the_manifest(home, custom_contracts):
    """A pseudonymised column's bad value is withheld from the reason: the manifest is in the warehouse."""
    contract_path = custom_contracts / "fmt_tickets.yml"
    contract_path.write_text(
        contract_path.read_text().replace(
            "{name: owner, type: VARCHAR, required: false, pseudonymise: true}",
            "{name: owner, type: VARCHAR, required: false, pseudonymise: true, regex: '^Caller \\\\d+$'}",
        )
    )
    path = home.landing / "fmt_tickets_20160304.csv"
    path.write_text("number,opened_at,owner,hours\nT1,4/3/2016 01:16,Kim Minsu 010-1234,1\n")
    outcome = loader.load_file(home, path, "b1")
    assert outcome.status == "quarantined" and "owner" in outcome.message and "line(s) [2]" in outcome.message
    assert "withheld" in outcome.message
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        manifest = str(con.execute("SELECT * FROM meta.file_manifest").fetchall())
    assert "Kim Minsu" not in manifest and "Kim Minsu" not in outcome.message


@pytest.mark.parametrize(
    ("pattern", "words"),
    [("'^T(?=\\d)'", ["not RE2 syntax", "(?="]), ("'^(T)\\1$'", ["not RE2 syntax"]), ("5", ["must be text"])],
)
def test_a_pattern_the_door_cannot_match_fails_when_the_contract_loads(tmp_path, pattern, words):
    """The door matches with RE2 (ingest.gx.validate_frame): a pattern outside it is refused
    with the file and column, not at the first delivered file."""
    (tmp_path / "fmt_bad.yml").write_text(
        CONTRACTS["fmt_tickets.yml"].replace("regex: '^T\\d+$'", f"regex: {pattern}"), encoding="utf-8"
    )
    with pytest.raises(contracts.ContractError) as err:
        contracts.load_contracts(tmp_path)
    for word in ["fmt_bad.yml", "column 'number'", *words]:
        assert word in str(err.value), err.value
