"""Fault injection at the door, for every landing contract (tests/faults/).

Per source kind: a good file and every fault case derived from it land together and load in one
batch. Each case must end as its rule says (docs/landing-contracts.md#quarantine-reasons): loaded, or
quarantined with a reason naming the file, the column or line, and what to do; the good file
and every other file of the batch load; landed rows = loaded + quarantined for every file; raw
holds exactly the rows the manifest says were loaded. A new contract gets all of this.

With SWPM_FAULT_REPORT=path, the figures (cases tried, rows landed/loaded/quarantined) are
written there as JSON.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from ingest.config import Home
from ingest.landing.contracts import load_contracts
from ingest.run import pipeline
from tests.faults import cases as fault_cases
from tests.faults.good_files import NoGoodFile, generate_sample, good_file

CONTRACTS = load_contracts()
CASE_NAMES = [
    "empty_file",
    "empty_sheet",
    "header_only",
    "truncated_gzip",
    "truncated",
    "not_gzip",
    "gzip_instead_of_plain",
    "not_a_zip",
    "wrong_sheet",
    "wrong_delimiter",
    "missing_column",
    "extra_column",
    "renamed_column",
    "wrong_type",
    "unknown_code",
    "bad_pattern",
    "pseudonymised_value_in_message",
    "out_of_range",
    "missing_required_value",
    "duplicate_rows",
    "duplicate_key",
    "same_file_other_name",
    "rows_out_of_order",
    "future_timestamp",
    "before_system_start",
    "contradictory_milestones",
    "korean_legacy_encoding",
    "korean_utf8",
    "korean_text",
    "utf8_bom",
    "crlf_line_ends",
    "line_of_megabytes",
]
SQL_NAME = "x'); DROP TABLE meta.file_manifest; --.csv"


class KindRun:
    def __init__(self, contract, root: Path, good: Path):
        self.contract = contract
        self.home = Home.resolve(root / "home").ensure()
        self.good = good
        self.faults = fault_cases.faults(contract, self.good)
        landing = self.home.landing
        (landing / self.good.name).write_bytes(self.good.read_bytes())
        for f in self.faults:
            if isinstance(f, fault_cases.Fault):
                (landing / f.name).write_bytes(f.data)
        # A name that tries to leave landing/: a link to a file outside it.
        self.outside = root / "outside" / fault_cases.rename(self.good.name, contract, 900)
        self.outside.parent.mkdir()
        self.outside.write_bytes(self.good.read_bytes() + b"")
        self.link = landing / fault_cases.rename(self.good.name, contract, 901)
        self.link.symlink_to(self.outside)
        (landing / SQL_NAME).write_bytes(self.good.read_bytes())
        self.outcomes = {o.file_name: o for o in pipeline.load(self.home, "faults")}
        con = duckdb.connect(str(self.home.warehouse), read_only=True)
        try:
            self.manifest = con.execute("SELECT * FROM meta.file_manifest").df()
            self.raw_counts = dict(
                con.execute(f"SELECT _source_file, count(*) FROM {contract.raw_table} GROUP BY ALL").fetchall()
            )
        finally:
            con.close()

    def fault(self, case: str):
        return next((f for f in self.faults if f.case == case), None)

    def raw_value(self, file_name: str, column: str) -> list[str]:
        con = duckdb.connect(str(self.home.warehouse), read_only=True)
        try:
            return [
                r[0]
                for r in con.execute(
                    f'SELECT "{column}" FROM {self.contract.raw_table} WHERE _source_file = $f', {"f": file_name}
                ).fetchall()
            ]
        finally:
            con.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    os.environ.setdefault("SWPM_PSEUDONYM_KEY", "fault-harness-test-key-not-a-secret")
    sample = tmp_path_factory.mktemp("fault_sample") / "landing"
    generate_sample(sample)
    cache: dict[str, KindRun | Exception] = {}

    def get(kind: str) -> KindRun:
        if kind not in cache:
            try:
                root = tmp_path_factory.mktemp(f"faults_{kind}")
                cache[kind] = KindRun(CONTRACTS[kind], root, good_file(CONTRACTS[kind], sample, root / "good"))
            except NoGoodFile as exc:
                cache[kind] = exc
        if isinstance(cache[kind], Exception):
            pytest.fail(str(cache[kind]), pytrace=False)
        return cache[kind]

    yield get
    report = os.environ.get("SWPM_FAULT_REPORT")
    if report:
        done = {k: r for k, r in cache.items() if isinstance(r, KindRun)}
        Path(report).write_text(
            json.dumps(
                {
                    kind: {
                        "cases": sum(isinstance(f, fault_cases.Fault) for f in r.faults) + 2,  # + link, SQL name
                        "not_applicable": {
                            f.case: f.reason for f in r.faults if isinstance(f, fault_cases.NotApplicable)
                        },
                        "files": len(r.manifest),
                        "rows_landed": int(r.manifest.rows_landed.fillna(0).sum()),
                        "rows_loaded": int(r.manifest.rows_loaded.sum()),
                        "rows_quarantined": int(r.manifest.rows_quarantined.sum()),
                    }
                    for kind, r in done.items()
                },
                indent=2,
            )
        )


@pytest.mark.parametrize("kind", sorted(CONTRACTS))
def test_every_contract_has_a_good_file_that_loads(runs, kind):
    run = runs(kind)
    o = run.outcomes[run.good.name]
    assert o.status == "loaded" and o.rows_loaded > 0, o
    assert run.raw_counts[run.good.name] == o.rows_loaded


@pytest.mark.parametrize("kind", sorted(CONTRACTS))
def test_every_file_is_accounted_for_and_counts_reconcile(runs, kind):
    run = runs(kind)
    landed = {p.name for p in run.home.landing.iterdir()} | set(run.outcomes)
    assert set(run.manifest.file_name) == {n for n in landed if not n.startswith(".")}, "a file without outcome"
    m = run.manifest
    assert (m.rows_landed.fillna(0) == m.rows_loaded + m.rows_quarantined).all(), m
    for row in m.itertuples():
        assert run.raw_counts.get(row.file_name, 0) == row.rows_loaded, row.file_name
        if row.status == "quarantined" and row.reason_code != "unsafe_path":
            assert Path(row.quarantine_path).is_file() and Path(row.quarantine_path + ".reason.json").is_file()
            assert not (run.home.landing / row.file_name).exists(), f"{row.file_name} left in landing/"


@pytest.mark.parametrize("kind", sorted(CONTRACTS))
def test_a_name_escaping_landing_is_refused_and_nothing_outside_is_touched(runs, kind):
    run = runs(kind)
    o = run.outcomes[run.link.name]
    assert o.status == "quarantined" and o.reason_code == "unsafe_path", o
    assert "landing" in o.message and run.link.name in o.message
    assert run.outside.read_bytes() == run.good.read_bytes()


@pytest.mark.parametrize("kind", sorted(CONTRACTS))
def test_sql_in_a_file_name_is_only_a_name(runs, kind):
    run = runs(kind)
    o = run.outcomes[SQL_NAME]
    assert o.status == "quarantined" and o.reason_code == "unknown_source"
    assert SQL_NAME in set(run.manifest.file_name), "the manifest survived and recorded the name verbatim"


@pytest.mark.parametrize("case", CASE_NAMES)
@pytest.mark.parametrize("kind", sorted(CONTRACTS))
def test_fault(runs, kind, case):
    run = runs(kind)
    fault = run.fault(case)
    if fault is None:
        pytest.skip(f"not a case for {run.contract.file_format} files")
    if isinstance(fault, fault_cases.NotApplicable):
        pytest.skip(f"{kind}: {fault.reason}")
    check_outcome(run, fault)


@pytest.mark.parametrize("kind", sorted(k for k, c in CONTRACTS.items() if any(col.pseudonymise for col in c.columns)))
def test_no_reason_file_or_status_quotes_a_pseudonymised_value(runs, kind, capsys):
    """The quarantined files keep their clear identifiers (they are the deliveries), but the
    reason files, the manifest's messages and `swpm status` never quote one."""
    from ingest import cli

    run = runs(kind)
    good = fault_cases.read_table(run.good, run.contract)
    secret = [i for i, c in enumerate(run.contract.columns) if c.pseudonymise]
    values = {r[i] for r in good.rows for i in secret if r[i] and len(r[i]) >= 6 and not r[i].isdigit()}
    values.add(fault_cases.CLEAR_IDENTIFIER)
    texts = {p.name: p.read_text(encoding="utf-8") for p in run.home.quarantine.glob("*.reason.json")}
    assert texts, "the fault cases quarantined files"
    capsys.readouterr()
    cli.main(["--home", str(run.home.root), "status"])
    cli.main(["--home", str(run.home.root), "status", "--json"])
    texts["swpm status"] = capsys.readouterr().out
    texts["manifest"] = " ".join(str(m) for m in run.manifest.message)
    leaks = [(where, value) for where, text in texts.items() for value in values if value in text]
    assert not leaks


def check_outcome(run: KindRun, fault: fault_cases.Fault) -> None:
    o = run.outcomes[fault.name]
    assert (o.status, o.reason_code if o.status == "quarantined" else None) == (
        fault.status,
        fault.code if fault.status == "quarantined" else None,
    ), o.message
    if fault.status == "quarantined":
        assert fault.name in o.message, o.message
        for word in fault.words:
            assert word.lower() in o.message.lower(), (word, o.message)
        assert fault_cases.ACTION.search(o.message), f"no advice on what to do: {o.message}"
        assert len(o.message) < 3000, "a message must stay readable, whatever the file holds"
        reason = json.loads(Path(o.quarantine_path + ".reason.json").read_text(encoding="utf-8"))
        assert reason["reason_code"] == fault.code and reason["file_name"] == fault.name
        assert Path(o.quarantine_path).read_bytes() == fault.data, "the quarantined copy is the delivery as sent"
        assert run.raw_counts.get(fault.name, 0) == 0
    else:
        if fault.rows_loaded is not None:
            assert o.rows_loaded == fault.rows_loaded
        if fault.rows_quarantined is not None:
            assert o.rows_quarantined == fault.rows_quarantined
        assert run.raw_counts.get(fault.name, 0) == o.rows_loaded
        if fault.raw_value:
            column, text = fault.raw_value
            assert text in run.raw_value(fault.name, column), "text must arrive exactly as sent"


TEST_CONTRACTS = {
    # A spreadsheet with a title row above the header.
    "harness_survey": (
        r"""
source_kind: harness_survey
file_name: '^harness_survey_(?P<data_date>\d{8})\.xlsx$'
format: xlsx
sheet: Responses
header_row: 2
unique_key: [response_id]
column_order: [[started_at, submitted_at]]
columns:
  - {name: response_id, type: VARCHAR, regex: '^R\d{4}$'}
  - {name: agency, type: VARCHAR, allowed: [KCS, MFDS, APQA]}
  - {name: score, type: INTEGER, min: 1, max: 5}
  - {name: comment, type: VARCHAR, required: false}
  - {name: started_at, type: TIMESTAMP, min: '2000-01-01 00:00:00'}
  - {name: submitted_at, type: TIMESTAMP}
""",
        "harness_survey_20110601.xlsx",
    ),
    # A plain CSV in the Korean Windows encoding, ';'-delimited, '?' for missing, d/m/Y times.
    "harness_ticket": (
        r"""
source_kind: harness_ticket
file_name: '^harness_ticket_(?P<data_date>\d{8})\.csv$'
compression: none
encoding: cp949
delimiter: ';'
null_strings: ['?']
unique_key: [number]
column_order: [[opened_at, resolved_at]]
columns:
  - {name: number, type: VARCHAR, regex: '^INC\d{7}$'}
  - {name: state, type: VARCHAR, allowed: [New, Resolved, Closed]}
  - {name: reassignments, type: INTEGER, min: 0, max: 100}
  - {name: short_description, type: VARCHAR, required: false}
  - {name: opened_at, type: TIMESTAMP, format: '%d/%m/%Y %H:%M', min: '2000-01-01 00:00:00'}
  - {name: resolved_at, type: TIMESTAMP, format: '%d/%m/%Y %H:%M', required: false}
""",
        "harness_ticket_20160229.csv",
    ),
}


def _good_test_file(kind: str, path: Path) -> None:
    import datetime as dt

    start = dt.datetime(2011, 6, 1, 9)
    if kind == "harness_survey":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "Responses"
        sheet.append(["Customer satisfaction survey, June 2011"])
        sheet.append(["response_id", "agency", "score", "comment", "started_at", "submitted_at"])
        for i in range(6):
            sheet.append(
                [
                    f"R{i + 1:04d}",
                    ["KCS", "MFDS", "APQA"][i % 3],
                    1 + i % 5,
                    None if i % 2 else "ok",
                    start + dt.timedelta(hours=i),
                    start + dt.timedelta(hours=i, minutes=7),
                ]
            )
        book.save(path)
    else:
        lines = ["number;state;reassignments;short_description;opened_at;resolved_at"]
        for i in range(6):
            opened = start + dt.timedelta(hours=i)
            resolved = f"{opened + dt.timedelta(hours=3):%d/%m/%Y %H:%M}" if i % 3 else "?"
            lines.append(
                f"INC{i + 1:07d};{['New', 'Resolved', 'Closed'][i % 3]};{i % 4};"
                f"{'통관 시스템 지연' if i % 2 else '?'};{opened:%d/%m/%Y %H:%M};{resolved}"
            )
        path.write_bytes(("\n".join(lines) + "\n").encode("cp949"))


@pytest.mark.parametrize("kind", sorted(TEST_CONTRACTS))
def test_the_harness_on_other_formats(kind, tmp_path, monkeypatch):
    """The harness's spreadsheet and plain-CSV branches on contracts of its own (an XLSX sheet
    below a title row; a CP949 ';'-separated CSV with '?' nulls and d/m/Y times), so those cases
    stay proven whichever real sources exist."""
    from ingest import warehouse
    from ingest.landing import contracts

    spec, good_name = TEST_CONTRACTS[kind]
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / f"{kind}.yml").write_text(spec, encoding="utf-8")
    fake = {kind: contracts._load(tmp_path / "contracts" / f"{kind}.yml")}
    monkeypatch.setattr(contracts, "load_contracts", lambda directory=None: fake)
    monkeypatch.setattr(warehouse, "load_contracts", lambda directory=None: fake)
    good = tmp_path / "good" / good_name
    good.parent.mkdir()
    _good_test_file(kind, good)
    run = KindRun(fake[kind], tmp_path, good)
    assert run.outcomes[good.name].status == "loaded" and run.outcomes[good.name].rows_loaded == 6, run.outcomes[
        good.name
    ].message
    faults = [f for f in run.faults if isinstance(f, fault_cases.Fault)]
    expected = {"missing_column", "wrong_type", "contradictory_milestones", "duplicate_rows", "out_of_range"}
    expected |= (
        {"empty_sheet", "not_a_zip", "wrong_sheet", "korean_text"}
        if kind == "harness_survey"
        else {"truncated", "gzip_instead_of_plain", "wrong_delimiter", "korean_legacy_encoding", "line_of_megabytes"}
    )
    assert expected <= {f.case for f in faults}
    failed = []
    for fault in faults:
        try:
            check_outcome(run, fault)
        except AssertionError as exc:
            failed.append(f"{fault.case}: {str(exc)[:600]}")
    assert not failed, "\n".join(failed)
