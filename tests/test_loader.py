"""Landing contracts at the door: good files load with lineage, bad files go to quarantine with
a reason a person can act on, the rest of the batch still loads, re-runs change nothing."""

from __future__ import annotations

import gzip
import json
import os
import shutil

import duckdb
import pytest

from ingest.landing.load import discover, load_file
from ingest.run import pipeline

DECL_HEADER = "declaration_id,declaration_type,transport_mode,customs_office,declarant_id,aeo_flag,oga_required,pre_arrival_flag,declared_value_krw"
GOOD_DECL = (
    DECL_HEADER
    + "\nIM200601030000001,IMPORT,AIR,040,BR00001,N,N,N,1000\nIM200601030000002,IMPORT,SEA,030,BR00002,Y,N,Y,2000\n"
)


def _gz(path, text: str, encoding="utf-8"):
    path.write_bytes(gzip.compress(text.encode(encoding), mtime=0))
    return path


def _manifest(home):
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.execute("SELECT * FROM meta.file_manifest ORDER BY file_name").df()
    finally:
        con.close()


def _rows(home, sql):
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_good_files_load_with_lineage(sample_home):
    outcomes = pipeline.load(sample_home, "batch-1")
    assert {o.status for o in outcomes} == {"loaded"}
    assert len(outcomes) == 8
    lineage = _rows(
        sample_home,
        """
        SELECT count(*), count(DISTINCT _source_file), min(_source_line), count(*) FILTER (WHERE _source_sha256 IS NULL
               OR _batch_id <> 'batch-1' OR _loaded_at IS NULL) FROM raw.clearance_events""",
    )[0]
    assert lineage[0] > 0 and lineage[1] == 4 and lineage[2] == 2 and lineage[3] == 0
    m = _manifest(sample_home)
    assert (m.rows_landed == m.rows_loaded + m.rows_quarantined).all()
    assert m.rows_loaded.sum() == sum(
        _rows(sample_home, f"SELECT count(*) FROM raw.{k}")[0][0]
        for k in ("clearance_declarations", "clearance_events")
    )


def test_loading_again_is_a_no_op(sample_home):
    pipeline.load(sample_home, "b1")
    before = _rows(sample_home, "SELECT count(*) FROM raw.clearance_events")[0][0]
    assert discover(sample_home) == []
    assert pipeline.load(sample_home, "b2") == []
    # Even asked explicitly, a recorded file is skipped.
    any_file = next(sample_home.landing.iterdir())
    assert load_file(sample_home, any_file, "b3").status == "skipped"
    assert _rows(sample_home, "SELECT count(*) FROM raw.clearance_events")[0][0] == before
    assert len(_manifest(sample_home)) == 8


def test_same_content_under_another_name_is_quarantined(sample_home):
    pipeline.load(sample_home, "b1")
    src = sample_home.landing / "clearance_declarations_20060101.csv.gz"
    shutil.copy2(src, sample_home.landing / "clearance_declarations_20060105.csv.gz")
    [outcome] = pipeline.load(sample_home, "b2")
    assert outcome.status == "quarantined" and outcome.reason_code == "duplicate_content"
    assert "clearance_declarations_20060101.csv.gz" in outcome.message
    assert not (sample_home.landing / "clearance_declarations_20060105.csv.gz").exists()


BAD_CASES = {
    "unknown_code": (
        GOOD_DECL.replace("IMPORT,SEA", "IMPORT,SHIP"),
        "out_of_contract",
        ["transport_mode", "SHIP", "line"],
    ),
    "missing_column": (
        GOOD_DECL.replace(",declared_value_krw", "").replace(",1000\n", "\n").replace(",2000\n", "\n"),
        "header_mismatch",
        ["declared_value_krw"],
    ),
    "renamed_column": (
        GOOD_DECL.replace("customs_office", "office_code"),
        "header_mismatch",
        ["office_code", "customs_office"],
    ),
    "wrong_type": (GOOD_DECL.replace(",1000\n", ",12OO\n"), "out_of_contract", ["declared_value_krw"]),
    "missing_required": (GOOD_DECL.replace(",040,", ",,"), "out_of_contract", ["customs_office", "empty"]),
    "duplicate_key": (
        GOOD_DECL + "IM200601030000001,IMPORT,AIR,040,BR00001,N,N,N,1001\n",
        "out_of_contract",
        ["declaration_id", "unique"],
    ),
    # The door matches patterns with RE2: a digit is an ASCII digit, '$' ends the value.
    "non_ascii_digit": (
        GOOD_DECL.replace("IM200601030000002", "IM2006010\u06630000002"),
        "out_of_contract",
        ["declaration_id", "wrong format", "line(s) [3]"],
    ),
    "trailing_newline_in_a_key": (
        GOOD_DECL.replace("IM200601030000002,", '"IM200601030000002\n",'),
        "out_of_contract",
        ["declaration_id", "wrong format"],
    ),
    "out_of_range": (GOOD_DECL.replace(",1000\n", ",-5\n"), "out_of_contract", ["declared_value_krw", "minimum"]),
    "header_only": (DECL_HEADER + "\n", "header_only", ["no rows"]),
    "empty": ("", "empty_file", ["empty"]),
    "wrong_delimiter": (GOOD_DECL.replace(",", ";"), "header_mismatch", ["delimiter"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_file_is_quarantined_and_the_rest_still_loads(sample_home, case):
    text, code, words = BAD_CASES[case]
    bad = _gz(sample_home.landing / "clearance_declarations_20060103.csv.gz", text)
    outcomes = {o.file_name: o for o in pipeline.load(sample_home, "b1")}
    o = outcomes[bad.name]
    assert o.status == "quarantined", o
    assert o.reason_code == code
    for word in words:
        assert word.lower() in o.message.lower(), (word, o.message)
    assert bad.name in o.message
    # The file moved to quarantine with a machine-readable reason beside it.
    assert not bad.exists()
    qfile = sample_home.quarantine / bad.name
    reason = json.loads((sample_home.quarantine / (bad.name + ".reason.json")).read_text())
    assert qfile.exists() and reason["reason_code"] == code
    # Every other file of the batch loaded.
    assert sum(x.status == "loaded" for x in outcomes.values()) == 8
    m = _manifest(sample_home)
    assert (m.rows_landed.fillna(0) == m.rows_loaded + m.rows_quarantined).all()
    assert (
        _rows(
            sample_home,
            "SELECT count(*) FROM raw.clearance_declarations WHERE _source_file = 'clearance_declarations_20060103.csv.gz'",
        )[0][0]
        == 0
    )


def test_a_door_breach_is_reported_before_a_type_breach_and_nothing_is_written(home):
    # GX runs beside the type checks and the insert; its verdict still comes first, and the
    # rows already inserted are rolled back.
    text = GOOD_DECL.replace("IMPORT,SEA", "IMPORT,SHIP").replace(",1000\n", ",12OO\n")
    _gz(home.landing / "clearance_declarations_20060103.csv.gz", text)
    _gz(home.landing / "clearance_declarations_20060104.csv.gz", GOOD_DECL.replace(",1000\n", ",12OO\n"))
    bad_both, bad_type = pipeline.load(home, "b1")
    assert bad_both.reason_code == "out_of_contract" and "SHIP" in bad_both.message
    assert "DECIMAL" not in bad_both.message
    assert bad_type.reason_code == "out_of_contract" and "is not DECIMAL" in bad_type.message
    assert _rows(home, "SELECT count(*) FROM raw.clearance_declarations")[0][0] == 0
    assert list(_manifest(home).status) == ["quarantined", "quarantined"]


def test_door_line_numbers_count_the_repeats_set_aside(home):
    repeat = GOOD_DECL.splitlines()[1] + "\n"
    text = GOOD_DECL + repeat + repeat + "IM200601030000003,IMPORT,SHIP,040,BR00001,N,N,N,1\n"
    _gz(home.landing / "clearance_declarations_20060103.csv.gz", text)
    [o] = pipeline.load(home, "b1")
    assert o.reason_code == "out_of_contract" and "SHIP" in o.message
    assert "line(s) [6]" in o.message, o.message


def test_not_gzip_and_truncated_gzip(home):
    (home.landing / "clearance_declarations_20060103.csv.gz").write_text(GOOD_DECL)
    whole = gzip.compress(
        (GOOD_DECL * 1).encode()
        + b"".join(f"IM2006010300{i:05d},IMPORT,AIR,040,BR00001,N,N,N,1\n".encode() for i in range(10, 5000)),
        mtime=0,
    )
    (home.landing / "clearance_declarations_20060104.csv.gz").write_bytes(whole[: len(whole) // 2])
    outcomes = {o.file_name: o for o in pipeline.load(home, "b1")}
    assert outcomes["clearance_declarations_20060103.csv.gz"].reason_code == "not_gzip"
    assert outcomes["clearance_declarations_20060104.csv.gz"].reason_code == "unreadable"
    # The stream's own damage is the reason given, whatever DuckDB made of the cut rows.
    assert "damaged or cut short" in outcomes["clearance_declarations_20060104.csv.gz"].message
    assert "send it again" in outcomes["clearance_declarations_20060104.csv.gz"].message


def test_unclaimed_file_name_is_quarantined(home):
    _gz(home.landing / "declarations.csv.gz", GOOD_DECL)
    [o] = pipeline.load(home, "b1")
    assert o.status == "quarantined" and o.reason_code == "unknown_source"


def test_file_outside_landing_is_refused(home, tmp_path):
    outside = _gz(tmp_path / "clearance_declarations_20060103.csv.gz", GOOD_DECL)
    o = load_file(home, home.landing / ".." / ".." / outside.name, "b1")
    assert o.status == "quarantined" and o.reason_code == "unsafe_path"
    assert outside.exists(), "a file outside landing/ is never moved"


def test_bom_and_crlf_are_accepted(home):
    _gz(home.landing / "clearance_declarations_20060103.csv.gz", "\ufeff" + GOOD_DECL.replace("\n", "\r\n"))
    [o] = pipeline.load(home, "b1")
    assert o.status == "loaded" and o.rows_loaded == 2
    assert _rows(home, "SELECT max(declared_value_krw) FROM raw.clearance_declarations")[0][0] == 2000


def test_corrected_file_under_same_name_loads_as_new_version(home):
    f = _gz(home.landing / "clearance_declarations_20060103.csv.gz", GOOD_DECL)
    pipeline.load(home, "b1")
    _gz(f, GOOD_DECL.replace(",1000\n", ",1500\n"))
    [o] = pipeline.load(home, "b2")
    assert o.status == "loaded"
    assert len(_manifest(home)) == 2


def test_data_date_after_the_run_waits(sample_home):
    import datetime as dt

    names = {p.name for p in discover(sample_home, until=dt.date(2006, 12, 31))}
    assert names == {f"clearance_{k}_2006010{d}.csv.gz" for k in ("declarations", "events") for d in (1, 2)}


def test_recorded_files_are_not_hashed_again(sample_home, monkeypatch):
    from ingest.landing import discover as discovery

    pipeline.load(sample_home, "b1")
    hashed = []
    real = discovery.sha256_of
    monkeypatch.setattr(discovery, "sha256_of", lambda p: hashed.append(p.name) or real(p))
    assert discover(sample_home) == []
    assert hashed == []
    # A corrected delivery under a known name is noticed even with an old modification time.
    target = sample_home.landing / "clearance_declarations_20060101.csv.gz"
    data = target.read_bytes()
    stat = target.stat()
    target.unlink()
    target.write_bytes(data[:-8] + data[-8:])  # same bytes, re-delivered
    os.utime(target, (stat.st_atime, stat.st_mtime))
    assert discover(sample_home) == [] and hashed == [target.name], "re-delivery is hashed and recognised"


def test_door_suites_are_typed_expectations_and_an_unknown_type_fails_clearly():
    """The door's suites hold GX's typed expectation classes (ingest/gx.py build_suite), one per
    configuration of the contract; a type GX does not know fails when the suite is built."""
    import great_expectations as gx

    from ingest.gx import UnknownExpectation, build_suite
    from ingest.landing.contracts import load_contracts

    contract = load_contracts()["clearance_declarations"]
    configs = contract.expectation_configs()
    suite = build_suite("door", configs)
    assert [e.expectation_type for e in suite.expectations] == [c["type"] for c in configs]
    assert isinstance(suite.expectations[0], gx.expectations.ExpectTableColumnsToMatchOrderedList)
    assert any(isinstance(e, gx.expectations.ExpectColumnValuesToNotBeNull) for e in suite.expectations)
    with pytest.raises(UnknownExpectation, match="suite 'door': unknown expectation type 'expect_column_to_be_tidy'"):
        build_suite("door", [*configs, {"type": "expect_column_to_be_tidy", "kwargs": {"column": "x"}}])


def test_gx_batches_skip_the_whole_frame_fingerprint():
    """GX fingerprints every pandas batch under its size threshold, which ingest/gx.py sets to
    zero (the marker is unused and cost more than the door's expectations). Held here against
    a GX upgrade that renames the threshold and silently brings the cost back."""
    import pandas as pd

    from ingest import gx as door_gx

    batch = door_gx._door_batch_definition().get_batch(batch_parameters={"dataframe": pd.DataFrame({"a": [1, 2]})})
    assert batch.data.dataframe["a"].tolist() == [1, 2]
    assert "pandas_data_fingerprint" not in batch.batch_markers


def test_a_failed_check_is_run_again_for_the_details_of_one_pass_with_them(monkeypatch):
    """The door runs each expectation for its verdict alone, then only the failed ones again
    with their examples and lines: the failures are those of one validation with the details,
    in the suite's order, and a frame that passes runs once."""
    import pandas as pd

    from ingest import gx as door_gx

    suite = door_gx.build_suite(
        "door",
        [
            {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "id", "regex": r"^IM\d{3}$"}},
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "mode"}},
            {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "mode", "value_set": ["AIR", "SEA"]}},
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
            {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1, "max_value": 3}},
        ],
    )
    bad = pd.DataFrame({"id": ["IM001", "IM002", "XX003", "IM002"], "mode": ["AIR", None, "SHIP", "SEA"]})
    failures = door_gx.validate_frame(bad, suite)
    with door_gx._ARROW_STRINGS, pd.option_context("future.infer_string", True):
        in_one_pass = door_gx.failures_of(door_gx._validate(bad, suite, door_gx.WITH_EXAMPLES))
    assert failures == in_one_pass
    by_type = {f.expectation: f for f in failures}
    assert set(by_type) == {e.expectation_type for e in suite.expectations}  # every one failed
    regex = by_type["expect_column_values_to_match_regex"]
    assert (regex.examples, regex.lines, regex.unexpected_count) == (["XX003"], [4], 1)
    runs = []
    real = door_gx._validate
    monkeypatch.setattr(
        door_gx,
        "_validate",
        lambda df, suite, result_format: runs.append(result_format) or real(df, suite, result_format),
    )
    assert door_gx.validate_frame(bad.iloc[:2].assign(mode=["AIR", "SEA"]), suite) == []
    assert door_gx.validate_frame(bad, suite) == failures
    assert runs == [door_gx.VERDICT_ONLY, door_gx.VERDICT_ONLY, door_gx.WITH_EXAMPLES]


def _decl(day: int, first: int, n: int = 3) -> str:
    rows = [f"IM2006010{day}{first + i:07d},IMPORT,AIR,040,BR00001,N,N,N,{1000 + i}" for i in range(n)]
    return DECL_HEADER + "\n" + "\n".join(rows) + "\n"


def test_door_checks_run_ahead_in_batches_give_each_file_its_own_verdict(home, tmp_path, monkeypatch):
    """The night checks files ahead of their load, several at once (ingest/landing/door_ahead.py):
    a breach in one file of a batch, and a key repeated across two files (unique within each),
    give the outcomes and messages of loading each file alone."""
    from ingest.config import Home
    from ingest.landing import door_ahead

    texts = {d: _decl(d, d * 10) for d in range(1, 10)}
    texts[4] = texts[4].replace("IMPORT,AIR", "IMPORT,SHIP", 1)  # out of contract, line 2
    texts[9] = texts[9] + texts[8].splitlines()[1] + "\n"  # day 8's first key again: fine per file
    alone = Home.resolve(tmp_path / "alone").ensure()
    for target in (home, alone):
        for d, text in texts.items():
            _gz(target.landing / f"clearance_declarations_2006010{d}.csv.gz", text)
    calls = []
    real = door_ahead.verdict_of
    monkeypatch.setattr(door_ahead, "verdict_of", lambda table, *a: calls.append(table.num_rows) or real(table, *a))
    together = pipeline.load(home, "b1")
    one_by_one = [load_file(alone, p, "b1") for p in discover(alone)]
    said = [(o.file_name, o.status, o.reason_code, o.message) for o in together]
    assert said == [(o.file_name, o.status, o.reason_code, o.message) for o in one_by_one]
    assert [s for _, s, _, _ in said].count("quarantined") == 1
    assert "SHIP" in together[3].message and "line(s) [2]" in together[3].message
    assert [s for _, s, _, _ in said[7:]] == ["loaded", "loaded"]
    # Batches of 1, 2, 4 and 2 files: days 4-7 fail as a batch (day 4), days 8-9 too (the key
    # repeated across them), so their files are checked one by one; the others pass whole.
    assert calls == [3, 6, 12, 3, 3, 3, 3, 7, 3, 4], calls
