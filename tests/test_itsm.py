"""ITSM exports and the SLA scorecard: contracts at the door, the sample world's calibration, and
the marts against independent computations (the real ServiceNow export included)."""

from __future__ import annotations

import collections
import csv
import datetime as dt
import gzip
import shutil
from pathlib import Path

import duckdb
import pytest

from ingest.landing import load as loader
from ingest.run import pipeline
from ingest.sample_world import itsm
from tests.conftest import PROJECT

SERVICENOW_EXPORT = PROJECT.parent / "shared/data/external/servicenow_incident_log/incident_event_log.csv.gz"
if not SERVICENOW_EXPORT.exists():
    SERVICENOW_EXPORT = Path("/work/shared/data/external/servicenow_incident_log/incident_event_log.csv.gz")
SERVICENOW_NAME = "itsm_incidents_servicenow_20170215.csv.gz"
# A sample world across the 4th-generation go-live (2016) into a partial year.
SAMPLE_START, SAMPLE_END, SAMPLE_SEED = dt.date(2016, 1, 1), dt.date(2017, 6, 15), 11


def _rows(home, sql):
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def itsm_home(tmp_path_factory):
    """Sample ITSM instance + the real ServiceNow export, loaded and built once for the module."""
    from ingest.config import Home

    home = Home.resolve(tmp_path_factory.mktemp("itsm") / "home").ensure()
    itsm.generate(home.landing, SAMPLE_START, SAMPLE_END, SAMPLE_SEED)
    shutil.copy2(SERVICENOW_EXPORT, home.landing / SERVICENOW_NAME)
    outcomes = pipeline.load(home, pipeline.new_batch_id(trigger="test"))
    pipeline.build(home)
    return home, outcomes


# --------------------------------------------------------------------------- the door


def test_every_export_loads_and_the_real_one_is_not_touched(itsm_home):
    home, outcomes = itsm_home
    # No DAG change: the loader's discovery claims every export by its contract.
    assert {o.file_name for o in outcomes} == {p.name for p in home.landing.iterdir() if p.suffix == ".gz"}
    assert all(o.status == "loaded" for o in outcomes), [(o.file_name, o.status, o.message) for o in outcomes]
    real = next(o for o in outcomes if o.file_name == SERVICENOW_NAME)
    assert (real.rows_landed, real.rows_loaded, real.rows_quarantined) == (119998, 119998, 0)
    assert loader.sha256_of(home.landing / SERVICENOW_NAME) == loader.sha256_of(SERVICENOW_EXPORT)
    assert _rows(
        home,
        "select count(*), count(distinct number) from raw.itsm_incidents "
        "where _source_file = '" + SERVICENOW_NAME + "'",
    ) == [(119998, 20769)]


def test_bad_exports_are_quarantined_with_reasons(home, tmp_path):
    itsm.generate(tmp_path, dt.date(2018, 1, 1), dt.date(2018, 2, 28), 3)
    incidents = tmp_path / "itsm_incidents_unipass_20180228.csv.gz"
    lines = gzip.decompress(incidents.read_bytes()).decode().splitlines()
    lines[3] = lines[3].replace("3 - Moderate", "3 - Medium").replace("4 - Low", "3 - Medium")
    (home.landing / "itsm_incidents_broken_20180228.csv.gz").write_bytes(
        gzip.compress(("\n".join(lines) + "\n").encode())
    )
    requests = tmp_path / "itsm_service_requests_unipass_20180228.csv.gz"
    lines = gzip.decompress(requests.read_bytes()).decode().splitlines()
    cells = lines[2].split(",")
    cells[2] = "2018-02-30"  # not d/m/yyyy, and no such day
    lines[2] = ",".join(cells)
    (home.landing / "itsm_service_requests_broken_20180228.csv.gz").write_bytes(
        gzip.compress(("\n".join(lines) + "\n").encode())
    )
    shutil.copy2(tmp_path / "edoc_processing_log_20180228.csv.gz", home.landing)

    outcomes = {o.file_name: o for o in pipeline.load(home, "b1")}
    assert outcomes["edoc_processing_log_20180228.csv.gz"].status == "loaded"
    bad_inc = outcomes["itsm_incidents_broken_20180228.csv.gz"]
    assert bad_inc.status == "quarantined" and "'priority'" in bad_inc.message and "3 - Medium" in bad_inc.message
    bad_sr = outcomes["itsm_service_requests_broken_20180228.csv.gz"]
    assert bad_sr.status == "quarantined" and "'due_date'" in bad_sr.message and "line(s) [3]" in bad_sr.message
    assert (home.quarantine / "itsm_service_requests_broken_20180228.csv.gz.reason.json").exists()


# --------------------------------------------------------------------------- the sample world


def test_generator_is_deterministic_and_calibrated(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    itsm.generate(a, dt.date(2016, 11, 1), dt.date(2017, 2, 1), 5)
    itsm.generate(b, dt.date(2016, 11, 1), dt.date(2017, 2, 1), 5)
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
    assert all((a / p.name).read_bytes() == (b / p.name).read_bytes() for p in a.iterdir())

    def export_mean(year):
        t = itsm.edoc_rows(  # noqa: F841 - read by name in the DuckDB query below
            year, 5, itsm._epoch(dt.date(year, 1, 1)), itsm._epoch(dt.date(year, 12, 31))
        )
        got = duckdb.sql(
            "select avg(epoch_ms(processed_at::timestamp) - epoch_ms(received_at::timestamp)) / 1000 "
            "from t where document_type = 'EXPORT_DECLARATION'"
        ).fetchone()[0]
        return got

    # The seed's levels: goal 9.5 s, basic 10.5 s, minimum 11.5 s.
    assert export_mean(2006) > 10.5  # slow at the launch
    assert export_mean(2012) <= 9.5  # mature: goal
    assert 9.5 < export_mean(2016) <= 11.5  # the 4th-generation go-live dip
    fails = [sum((itsm.simulate_incidents(y, s)["priority"] <= 2).sum() for s in range(4)) / 48 for y in (2006, 2014)]
    assert fails[0] > 0.6 and fails[1] < 0.3  # failures a month: frequent at the launch, rare when mature


# --------------------------------------------------------------------------- marts


def _independent_servicenow():
    """Incidents per (month opened, priority) and made_sla counts, from the export with the csv
    module: the latest update (highest sys_mod_count, then sys_updated_at) is the state."""
    latest: dict[str, tuple] = {}
    with gzip.open(SERVICENOW_EXPORT, "rt", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            key = (int(r["sys_mod_count"]), dt.datetime.strptime(r["sys_updated_at"], "%d/%m/%Y %H:%M"))
            if r["number"] not in latest or key > latest[r["number"]][0]:
                latest[r["number"]] = (key, r)
    opened, made = collections.Counter(), collections.Counter()
    for _, r in latest.values():
        month = dt.datetime.strptime(r["opened_at"], "%d/%m/%Y %H:%M").date().replace(day=1)
        for priority in (r["priority"], "ALL"):
            opened[(month, priority)] += 1
            made[(month, priority)] += r["made_sla"] == "true"
    return opened, made


def test_real_servicenow_incidents_per_month_and_made_sla_share(itsm_home):
    home, _ = itsm_home
    opened, made = _independent_servicenow()
    mart = {
        (m, p): (n, share)
        for m, p, n, share in _rows(
            home,
            "select period_start, priority, opened, made_sla_share from marts.itsm_incident_summary "
            "where source_system = 'servicenow'",
        )
    }
    assert set(mart) == set(opened)
    for key, n in opened.items():
        assert mart[key][0] == n, key
        assert mart[key][1] == pytest.approx(made[key] / n, abs=1e-12), key
    # made_sla share per priority over the whole export
    per_priority = {
        p: (
            sum(n * s for (m, q), (n, s) in mart.items() if q == p),
            sum(n for (m, q), (n, s) in mart.items() if q == p),
        )
        for p in {p for _, p in mart}
    }
    for p, (made_n, n) in per_priority.items():
        want = sum(made[k] for k in made if k[1] == p) / sum(opened[k] for k in opened if k[1] == p)
        assert made_n / n == pytest.approx(want, abs=1e-9), p
    assert sum(n for (m, p), (n, s) in mart.items() if p == "ALL") == 20769


def _independent_timely_rates(home):
    """Timely processing rate per month from the S/R export files (latest export per request)."""
    latest = {}
    for path in sorted(home.landing.glob("itsm_service_requests_unipass_*.csv.gz")):
        export = dt.datetime.strptime(path.name[-15:-7], "%Y%m%d").date()
        with gzip.open(path, "rt", newline="") as fh:
            for r in csv.DictReader(fh):
                if r["number"] not in latest or export >= latest[r["number"]][0]:
                    latest[r["number"]] = (export, r)
    as_of = max(e for e, _ in latest.values())
    out = {}
    month = SAMPLE_START
    while month <= as_of:
        nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        until = min(nxt - dt.timedelta(days=1), as_of)
        scheduled = on_time = delay = 0
        for _, r in latest.values():
            if r["state"] == "4 - Closed Cancelled":
                continue
            due = dt.datetime.strptime(r["due_date"], "%d/%m/%Y").date()
            if not month <= due <= until:
                continue
            scheduled += 1
            done = (
                None if r["completed_at"] == "?" else dt.datetime.strptime(r["completed_at"], "%d/%m/%Y %H:%M").date()
            )
            if done is not None and done <= due:
                on_time += 1
            else:
                delay += ((done if done is not None and done <= until else until) - due).days
        out[month] = (scheduled, on_time, delay, 100.0 * on_time / (scheduled + 0.5 * delay) if scheduled else None)
        month = nxt
    return out


def test_sla_scorecard_timely_processing_matches_an_independent_computation(itsm_home):
    home, _ = itsm_home
    want = _independent_timely_rates(home)
    got = {
        m: (s, o, d, v)
        for m, s, o, d, v in _rows(
            home,
            "select period_start, scheduled, on_time, delay_days, measured_value from marts.sla_indicator_monthly "
            "where indicator_code = 'SR_TIMELY_PROCESSING_RATE' and period_type = 'month'",
        )
    }
    assert set(got) == set(want)
    for month, (s, o, d, v) in want.items():
        assert got[month][:3] == (s, o, d), month
        assert got[month][3] == pytest.approx(v), month
    assert any(w[0] > w[1] for w in want.values())  # some late requests in the sample world


def test_sla_scorecard_covers_the_catalogue_and_bands(itsm_home):
    home, _ = itsm_home
    rows = _rows(
        home,
        """
        select indicator_code, count(*) filter (where period_type = 'month'),
               count(*) filter (where period_type = 'contract_year_to_date'),
               count(*) filter (where attainment not in ('goal', 'basic', 'minimum', 'below_minimum'))
        from marts.sla_indicator_monthly group by 1 order by 1""",
    )
    codes = {r[0] for r in rows}
    assert {
        "SR_TIMELY_PROCESSING_RATE",
        "EDOC_TIME_EXPORT_DECLARATION",
        "SYSTEM_FAILURE_CASES",
        "AVAILABILITY",
        "MEAN_TIME_TO_RESTORE",
    } <= codes
    months = (SAMPLE_END.year - SAMPLE_START.year) * 12 + SAMPLE_END.month - SAMPLE_START.month + 1
    assert all(r[1] == r[2] == months and r[3] == 0 for r in rows), rows
    # Export declarations in 2016 (the go-live dip) miss the goal; the ytd window is the contract year.
    export_2016 = _rows(
        home,
        """
        select measured_value, attainment, observations from marts.sla_indicator_monthly
        where indicator_code = 'EDOC_TIME_EXPORT_DECLARATION' and period_type = 'contract_year_to_date'
          and period_start = '2016-12-01'""",
    )[0]
    docs_2016 = _rows(
        home,
        "select count(*), avg(processing_seconds) from staging.stg_edoc__documents "
        "where document_type = 'export_declaration' and year(received_at) = 2016 "
        "and processing_seconds is not null",
    )[0]
    assert export_2016[2] == docs_2016[0] and export_2016[0] == pytest.approx(docs_2016[1])
    assert export_2016[1] in ("basic", "minimum")
    edoc = _rows(
        home, "select count(*), count(distinct document_type), min(documents) from marts.edoc_processing_time"
    )[0]
    assert edoc[0] == months * 5 and edoc[1] == 5 and edoc[2] > 0


def test_mart_checks_pass_and_marts_are_published(itsm_home):
    from ingest.run import dbt
    from ingest.run import mart_checks as quality

    home, _ = itsm_home
    mine = {"sla_indicator_monthly", "edoc_processing_time", "itsm_incident_summary"}
    results = {r.name: r for r in quality.check_marts(home) if r.name in mine}
    assert set(results) == mine
    assert all(r.success and r.rows > 0 for r in results.values()), [(r.name, r.failures) for r in results.values()]
    # The counts' reconciliation is dbt's (a rule of the mart): the tests pass, on rows.
    reconciliations = {
        "itsm_incident_summary_reconciles",
        "expression_is_true_itsm_incident_summary_opened_resolved_still_open",
        "expression_is_true_sla_indicator_monthly_scheduled_on_time_late",
    }
    tested = dbt.run_dbt(home, "test", "--select", *sorted(reconciliations))
    assert {n["name"]: n["status"] for n in tested.nodes} == dict.fromkeys(reconciliations, "pass")
    counted = _rows(
        home,
        """select (select count(*) from marts.itsm_incident_summary where priority = 'ALL'),
                  (select count(*) from marts.sla_indicator_monthly where scheduled is not null)""",
    )[0]
    assert min(counted) > 0, counted
    pipeline.publish(home, "test")
    with duckdb.connect(str(home.snapshot), read_only=True) as con:
        systems = {s for (s,) in con.execute("select distinct source_system from itsm_incident_summary").fetchall()}
        assert systems == {"unipass", "servicenow"}
        assert con.execute("select count(*) from sla_indicator_monthly").fetchone()[0] > 0
        assert con.execute("select count(*) from edoc_processing_time").fetchone()[0] > 0
