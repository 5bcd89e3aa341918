"""C/S inspection performance on the published KCS extract: the three published files as three
nightly drops beside the sample world, through the pipeline's own steps (load, build, check,
publish), against an independent computation in pure Python; identifiers never in clear."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import shutil
from collections import defaultdict

import duckdb
import pytest

from ingest.landing import pseudonymise
from ingest.landing.load import load_file
from ingest.run import pipeline
from tests.conftest import PROJECT
from tests.trs_reference import declarations_from_landing

# The published extract lives in shared/ beside the repository (main checkout or worktree).
KCS_DIR = (
    next(
        (
            d
            for d in (PROJECT.parent / "shared", PROJECT.parent.parent / "shared")
            if (d / "data/external/kcs_import_declarations").is_dir()
        ),
        PROJECT,
    )
    / "data/external/kcs_import_declarations"
)
# Published file -> (name it lands under, night it belongs to): train = 2020, valid = 2021 Q1,
# test = 2021 Q2 (SOURCE.md).
DROPS = {
    "df_syn_train_eng.csv": ("kcs_import_declarations_20201231.csv", dt.date(2020, 12, 31)),
    "df_syn_valid_eng.csv": ("kcs_import_declarations_20210331.csv", dt.date(2021, 3, 31)),
    "df_syn_test_eng.csv": ("kcs_import_declarations_20210630.csv", dt.date(2021, 6, 30)),
}
PARTY_COLUMNS = ("Declarant ID", "Importer ID", "Seller ID", "Courier ID")

pytestmark = pytest.mark.skipif(not KCS_DIR.is_dir(), reason="published KCS extract not available")


@functools.cache
def _published_rows() -> tuple[dict, ...]:
    rows = []
    for name in DROPS:
        with open(KCS_DIR / name, newline="", encoding="utf-8") as fh:
            rows.extend(csv.DictReader(fh))
    return tuple(rows)


@pytest.fixture(scope="module")
def nights(tmp_path_factory, sample_landing):
    """Sample world plus the three KCS files, all landed at once; each nightly run takes in only
    the files whose data date has come (the extract's file for that quarter)."""
    from ingest.config import Home

    home = Home.resolve(tmp_path_factory.mktemp("cs") / "home").ensure()
    for f in sample_landing.iterdir():
        shutil.copy2(f, home.landing / f.name)
    for published, (name, _) in DROPS.items():
        shutil.copy2(KCS_DIR / published, home.landing / name)
    # Nights one and two load and build (incrementally); night three runs every step: load,
    # dbt build, mart checks, publish.
    summaries = []
    for i, (_, night) in enumerate(DROPS.values()):
        if i < len(DROPS) - 1:
            summaries.append(pipeline.RunSummary(f"night{i}", night, pipeline.load(home, f"night{i}", until=night)))
            pipeline.build(home)
        else:
            summaries.append(pipeline.run(home, logical_date=night, log=lambda _: None, through="publish"))
    return home, summaries


def _snapshot(home, sql: str, params=()):
    con = duckdb.connect(str(home.snapshot), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_three_nightly_drops_load_whole_and_publish(nights):
    home, summaries = nights
    loaded = [[o.file_name for o in s.outcomes if o.source_kind == "kcs_import_declarations"] for s in summaries]
    assert loaded == [[name] for name, _ in DROPS.values()]  # one quarter's file per night
    assert summaries[-1].published
    counts = {o.file_name: o.rows_loaded for s in summaries for o in s.outcomes}
    assert [counts[name] for name, _ in DROPS.values()] == [37385, 8134, 8481]
    assert _snapshot(home, "SELECT count(DISTINCT source) FROM cs_inspection_performance")[0][0] == 2


def _independent_kcs() -> dict[tuple, dict]:
    """Per (period_type, period_start, office) and per (period_type, period_start, 'ALL')."""
    groups: dict[tuple, dict] = defaultdict(lambda: {"inspections": 0, "detections": 0, "critical": 0, "value": 0.0})
    for r in _published_rows():
        day = dt.date.fromisoformat(r["Date"])
        for period_type, start in (("month", day.replace(day=1)), ("year", day.replace(month=1, day=1))):
            for office in (r["Office ID"], "ALL"):
                g = groups[(period_type, start, office)]
                g["inspections"] += 1
                if r["Fraud"] == "1":
                    g["detections"] += 1
                    g["value"] += float(r["Item Price"])
                if r["Critical Fraud"] == "2":
                    g["critical"] += 1
    return groups


def test_hit_rates_per_month_and_office_match_an_independent_computation(nights):
    home, _ = nights
    expected = _independent_kcs()
    rows = _snapshot(
        home,
        """
        SELECT period_type, period_start, customs_office, inspections, detections, critical_detections,
               hit_rate, critical_rate, detected_value_krw, declarations_total, inspection_rate
        FROM cs_inspection_performance
        WHERE source = 'kcs_extract' AND grouping_set IN ('period', 'period+office')""",
    )
    got = {(r[0], r[1], r[2]): r[3:] for r in rows}
    assert set(got) == set(expected)
    assert len([k for k in got if k[0] == "month" and k[2] == "ALL"]) == 18  # 2020-01 .. 2021-06
    for key, e in expected.items():
        insp, det, crit, hit, crit_rate, value, total, insp_rate = got[key]
        assert (insp, det, crit) == (e["inspections"], e["detections"], e["critical"]), key
        assert hit == pytest.approx(e["detections"] / e["inspections"], abs=1e-6), key
        assert crit_rate == pytest.approx(e["critical"] / e["inspections"], abs=1e-6), key
        assert value == pytest.approx(e["value"], abs=0.01), key
        assert total is None and insp_rate is None, key  # inspected declarations only: no population
    whole = got[("year", dt.date(2020, 1, 1), "ALL")]
    assert whole[0] == 37385


def test_every_rollup_level_counts_the_same_declarations(nights):
    home, _ = nights
    per_level = _snapshot(
        home,
        """
        SELECT grouping_set, period_type, period_start, sum(inspections), sum(detections), sum(critical_detections)
        FROM cs_inspection_performance WHERE source = 'kcs_extract' GROUP BY ALL""",
    )
    by_period = defaultdict(set)
    for _level, *key_and_sums in per_level:
        by_period[tuple(key_and_sums[:2])].add(tuple(key_and_sums[2:]))
    assert len({lvl for lvl, *_ in per_level}) == 8  # 'period' + every combination of office, mode, type
    assert all(len(sums) == 1 for sums in by_period.values())  # each level partitions the same rows


def test_clearance_log_inspection_rate_matches_an_independent_computation(nights, sample_landing):
    home, _ = nights
    import pandas as pd

    d = declarations_from_landing(sample_landing)
    ev = pd.concat(
        [
            pd.read_csv(p, dtype=str, keep_default_na=False)
            for p in sorted(sample_landing.glob("clearance_events_*.csv.gz"))
        ]
    )
    ends = ev[ev.event_type == "INSPECTION_END"].sort_values("event_time").groupby("declaration_id").event_detail.last()
    d["result"] = d.declaration_id.map(ends)
    d = d[(d.declaration_type == "import") & d.reference_date.notna()]
    d["inspected"] = d.channel.isin(["yellow", "red"]) | d.result.notna()
    d["detected"] = d.result == "VIOLATION"
    for year in sorted(d.reference_date.dt.year.unique()):
        y = d[d.reference_date.dt.year == year]
        row = _snapshot(
            home,
            """
            SELECT declarations_total, inspections, detections, inspection_rate, hit_rate, critical_detections, import_type
            FROM cs_inspection_performance WHERE source = 'clearance_log' AND period_type = 'year'
              AND period_start = ? AND grouping_set = 'period'""",
            [dt.date(int(year), 1, 1)],
        )
        assert len(row) == 1, year
        total, insp, det, insp_rate, hit, crit, import_type = row[0]
        assert (total, insp, det) == (len(y), int(y.inspected.sum()), int(y.detected.sum())), year
        assert insp_rate == pytest.approx(y.inspected.mean(), abs=1e-6)
        assert hit == pytest.approx(y.detected.sum() / y.inspected.sum(), abs=1e-6)
        assert crit is None and import_type == "ALL"  # the logs record neither


def _clear_identifiers() -> set[str]:
    return {r[c] for r in _published_rows() for c in PARTY_COLUMNS if r[c]}


def _tables(con) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog = current_database()"
    ).fetchall()


def _leaks(con, relation_sql: str) -> dict[str, int]:
    """Text columns of a relation holding any clear identifier, as a whole value or as a token
    of one. Numeric and date columns are measures: an identifier cannot land there, and an
    all-digit identifier equal to some amount would be a coincidence, not a leak."""
    out = {}
    described = con.execute(f"DESCRIBE SELECT * FROM {relation_sql}").fetchall()
    for column, column_type, *_ in described:
        if column_type != "VARCHAR":
            continue
        ident = '"' + column.replace('"', '""') + '"'
        n = con.execute(
            f"""SELECT count(*) FROM (
                    SELECT unnest(regexp_split_to_array({ident}, '[^A-Za-z0-9]+')) AS token
                    FROM {relation_sql}) AS t
                WHERE token IN (SELECT id FROM clear_ids)"""
        ).fetchone()[0]
        if n:
            out[column] = n
    return out


def test_no_clear_identifier_reaches_the_warehouse_or_the_snapshot(nights):
    """Every column of every table and view of the warehouse (raw included) and of the served
    snapshot, and every Parquet file, scanned for the extract's clear party identifiers."""
    home, _ = nights
    clear = _clear_identifiers()
    assert len(clear) > 20000
    parquet_files = sorted((home.serving / "parquet").glob("*.parquet"))
    assert "cs_inspection_performance" in {p.stem for p in parquet_files}
    leaks, scanned = {}, 0
    for path in (home.warehouse, home.snapshot):
        con = duckdb.connect(str(path), read_only=True)
        try:
            con.execute("CREATE TEMP TABLE clear_ids AS SELECT unnest($ids) AS id", {"ids": sorted(clear)})
            relations = [(f"{path.name}:{schema}.{table}", f'"{schema}"."{table}"') for schema, table in _tables(con)]
            if path == home.warehouse:
                assert any(name.endswith("raw.kcs_import_declarations") for name, _ in relations)
            else:
                relations += [(p.name, f"read_parquet('{p}')") for p in parquet_files]
            for name, relation in relations:
                scanned += 1
                for column, n in _leaks(con, relation).items():
                    leaks[f"{name}.{column}"] = n
        finally:
            con.close()
    assert scanned > 10
    assert leaks == {}


def test_the_leak_scan_finds_a_clear_identifier(nights, tmp_path):
    """The scan above can fail: a table holding one clear Importer ID is reported."""
    clear = sorted(_clear_identifiers())
    con = duckdb.connect(str(tmp_path / "leaky.duckdb"))
    try:
        con.execute("CREATE TEMP TABLE clear_ids AS SELECT unnest($ids) AS id", {"ids": clear})
        con.execute("CREATE TABLE t AS SELECT 'note about ' || $v || '.' AS remark, 1 AS n", {"v": clear[100]})
        assert _leaks(con, "t") == {"remark": 1}
    finally:
        con.close()


def test_pseudonyms_are_the_keyed_hash_from_configuration(nights):
    home, _ = nights
    first = _published_rows()[0]
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        stored = con.execute(
            'SELECT "Declarant ID", "Importer ID", "Courier ID" FROM raw.kcs_import_declarations '
            'WHERE "Declaration ID" = ?',
            [first["Declaration ID"]],
        ).fetchone()
    finally:
        con.close()
    secret = pseudonymise.key()
    assert stored == (
        pseudonymise.pseudonym(first["Declarant ID"], secret),
        pseudonymise.pseudonym(first["Importer ID"], secret),
        None,
    )  # an empty Courier ID stays empty, not a hash of ''
    assert pseudonymise.pseudonym(first["Declarant ID"], b"another-key-0123456789") != stored[0]


HEADER = ",".join(
    [
        "Declaration ID",
        "Date",
        "Office ID",
        "Process Type",
        "Import Type",
        "Import Use",
        "Payment Type",
        "Mode of Transport",
        "Declarant ID",
        "Importer ID",
        "Seller ID",
        "Courier ID",
        "HS6 Code",
        "Country of Departure",
        "Country of Origin",
        "Tax Rate",
        "Tax Type",
        "Country of Origin Indicator",
        "Net Mass",
        "Item Price",
        "Fraud",
        "Critical Fraud",
    ]
)
GOOD = "97061800,2020-01-01,30,B,11,21,11,10,ZZR1LT6,QLRUBN9,0VKY2BR,,440890,BE,BE,0.0,FEU1,G,108.0,372254.4,0,0"
GOOD2 = "85945189,2020-01-01,40,B,11,21,11,40,SWF9S4X,7JD1S2X,,DHL001,690722,CN,CN,8.0,A,Y,11352.0,375751.2,1,2"


@pytest.mark.parametrize(
    "label, text, code, words",
    [
        (
            "fraud label outside 0/1",
            HEADER + "\n" + GOOD + "\n" + GOOD2.replace(",1,2", ",3,2"),
            "out_of_contract",
            ["'Fraud'", "'3'"],
        ),
        (
            "critical fraud outside 0/1/2",
            HEADER + "\n" + GOOD + "\n" + GOOD2.replace(",1,2", ",1,5"),
            "out_of_contract",
            ["'Critical Fraud'", "'5'"],
        ),
        (
            "unknown transport mode code",
            HEADER + "\n" + GOOD.replace(",11,10,", ",11,15,"),
            "out_of_contract",
            ["'Mode of Transport'", "'15'"],
        ),
        (
            "impossible date",
            HEADER + "\n" + GOOD.replace("2020-01-01", "2020-13-01"),
            "out_of_contract",
            ["'Date'", "line(s) [2]"],
        ),
        (
            "negative item price",
            HEADER + "\n" + GOOD.replace("372254.4", "-5.0"),
            "out_of_contract",
            ["'Item Price'", "below the minimum"],
        ),
        (
            "header renamed",
            HEADER.replace("Office ID", "Office_ID") + "\n" + GOOD,
            "header_mismatch",
            ["Office_ID", "Office ID"],
        ),
        # The same declaration twice with different content (an exact repeat is only set aside).
        (
            "duplicate declaration",
            HEADER + "\n" + GOOD + "\n" + GOOD.replace(",108.0,", ",109.0,"),
            "out_of_contract",
            ["'Declaration ID'", "unique"],
        ),
    ],
)
def test_the_door_quarantines_a_bad_extract_with_a_reason(home, label, text, code, words):
    path = home.landing / "kcs_import_declarations_20200101.csv"
    path.write_text(text + "\n", encoding="utf-8")
    outcome = load_file(home, path, "door")
    assert outcome.status == "quarantined", label
    assert outcome.reason_code == code, (label, outcome.message)
    for word in words:
        assert word in outcome.message, (label, outcome.message)
    assert (home.quarantine / path.name).exists() and not path.exists()


def test_the_door_loads_a_good_extract_and_keeps_codes_as_given(home):
    path = home.landing / "kcs_import_declarations_20200101.csv"
    path.write_text(HEADER + "\n" + GOOD + "\n" + GOOD2 + "\n", encoding="utf-8")
    outcome = load_file(home, path, "door")
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 2), outcome.message
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        rows = con.execute(
            'SELECT "Office ID", "Mode of Transport", "HS6 Code", "Courier ID", "Critical Fraud" '
            "FROM raw.kcs_import_declarations ORDER BY _source_line"
        ).fetchall()
    finally:
        con.close()
    assert [r[:3] for r in rows] == [("30", "10", "440890"), ("40", "40", "690722")]
    assert rows[0][3] is None and rows[1][3].startswith("p_") and rows[1][4] == 2


def test_a_missing_key_stops_the_load_and_keeps_the_file(home, monkeypatch):
    monkeypatch.delenv(pseudonymise.KEY_ENV, raising=False)
    path = home.landing / "kcs_import_declarations_20200101.csv"
    path.write_text(HEADER + "\n" + GOOD + "\n", encoding="utf-8")
    with pytest.raises(pseudonymise.MissingKey, match="SWPM_PSEUDONYM_KEY"):
        load_file(home, path, "door")
    assert path.exists() and not pipeline.has_loaded_rows(home)


def test_nightly_incremental_builds_equal_a_full_rebuild(nights):
    """Runs last in this module: it rebuilds the marts in the warehouse (not the snapshot)."""
    home, _ = nights
    sql = "SELECT * EXCLUDE (source_refreshed_at) FROM marts.cs_inspection_performance ORDER BY ALL"

    def table():
        con = duckdb.connect(str(home.warehouse), read_only=True)
        try:
            return con.execute(sql).df()
        finally:
            con.close()

    incremental = table()
    pipeline.build(home, full_refresh=True)
    full = table()
    assert len(incremental) == len(full) > 0
    assert incremental.equals(full)


def test_a_correction_that_empties_a_month_equals_a_full_rebuild(built_home):
    """A KCS correction moves a declaration to another Date, out of the only month that held it:
    the incremental build deletes that month's counts and mart rows (the pre-hooks), and the
    year's figures add up the months that are left, as a full rebuild has them."""
    from ingest.run import dbt

    home = built_home
    select = ["--select", "stg_kcs__import_declaration_versions", "stg_kcs__import_declarations"]
    select += ["int_cs_inspections", "int_cs_inspection_monthly", "cs_inspection_performance"]
    moved = GOOD.split(",")[0]
    february = GOOD2.replace(",2020-01-01,", ",2020-02-01,")
    (home.landing / "kcs_import_declarations_20200131.csv").write_text(f"{HEADER}\n{GOOD}\n{february}\n")
    assert [o.status for o in pipeline.load(home, "k1")] == ["loaded"]
    dbt.run_dbt(home, "run", *select)
    corrected = GOOD.replace(",2020-01-01,", ",2020-02-03,")
    assert corrected.startswith(moved + ",2020-02-03,")
    (home.landing / "kcs_import_declarations_20200229.csv").write_text(f"{HEADER}\n{corrected}\n")
    assert [o.status for o in pipeline.load(home, "k2")] == ["loaded"]
    dbt.run_dbt(home, "run", *select)

    def tables():
        con = duckdb.connect(str(home.warehouse), read_only=True)
        try:
            return [
                con.execute(f"SELECT * FROM {t} WHERE source = 'kcs_extract' ORDER BY ALL").fetchall()
                for t in ("intermediate.int_cs_inspection_monthly", "marts.cs_inspection_performance")
            ]
        finally:
            con.close()

    cells, mart = tables()
    assert {c[1] for c in cells} == {dt.date(2020, 2, 1)}  # January had only the moved declaration
    year = [r for r in mart if r[1] == "year" and r[6] == "period"]
    assert [(r[2], r[7]) for r in year] == [(dt.date(2020, 1, 1), 2)]  # inspections: both, once
    dbt.run_dbt(home, "run", *select, "--full-refresh")
    assert tables() == [cells, mart]
