"""The benchmark (bench/run.py) end to end at a tiny scale, its steps in this process: every
section runs and its counts reconcile. No timing assertions: timings belong to `make bench`."""

from __future__ import annotations

import json

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    from bench.run import run

    work = tmp_path_factory.mktemp("bench")
    run(
        "day",
        per_day=30,
        repeats=1,
        work=work / "work",
        out=work / "day.json",
        seed=3,
        small_per_day=10,
        history_repeats=1,
        in_process=True,
        log=lambda *_: None,
    )
    return json.loads((work / "day.json").read_text())


def test_every_section_ran_and_counts_reconcile(figures):
    assert figures["complete"] is True
    ingest = figures["ingest"]
    rows = ingest["loader"]["rows"]
    assert rows > 30
    assert ingest["floor_duckdb_read_csv"]["rows"] == ingest["pandas_to_sql"]["rows"] == rows
    # At day scale the history is the ingest sample itself.
    assert figures["history_load"]["rows"] == rows
    assert figures["nightly"]["empty"]["rows"] == figures["nightly"]["history"]["rows"] > 0
    assert figures["nightly"]["empty_small"]["rows"] < figures["nightly"]["empty"]["rows"]
    assert set(figures["nightly"]["history"]["parts"]) == {"import", "load", "build", "check", "publish"}
    assert set(figures["fixed_costs"]) == {
        "interpreter",
        "import_ingest",
        "gx_setup",
        "airflow_parse",
        "dbt_parse",
        "dbt_parse_kept",
    }
    assert set(figures["targets"]) == {
        "loader_vs_floor",
        "loader_vs_pandas",
        "fixed_cost_share",
        "nightly_history_vs_empty",
        "nightly_history_peak_rss_gib",
        "rebuild_peak_rss_gib",
        "rebuild_vs_history_load",
    }
    split = figures["fixed_cost_split"]
    assert set(split) >= {"dbt_parse", "dbt_parse_kept", "gx_import_and_setup", "airflow_task_start", "mart_checks"}
    assert split["night_fixed_share"] == figures["targets"]["fixed_cost_share"]["value"]
    assert figures["machine"]["cores"] >= 1 and len(figures["loadavg_after"]) == 3
    # The memory limit moves both time and peak RSS: a run says which it had.
    assert figures["machine"]["engine_settings"]["SWPM_DUCKDB_MEMORY_LIMIT"]
    # The machine's speed at the start, before the history load and the rebuild, and at the end.
    probes = [
        figures["machine_probe"]["start"],
        figures["machine_probe"]["end"],
        figures["history_load"]["machine_probe"],
        figures["rebuild"]["machine_probe"],
    ]
    for probe in probes:
        assert probe["duckdb_seconds"] > 0 and probe["python_seconds"] > 0
        assert probe["seconds"] == pytest.approx(probe["duckdb_seconds"] + probe["python_seconds"], abs=0.002)


def test_table_names_every_figure(figures):
    from bench.run import table

    text = table(figures)
    for phrase in (
        "loader / floor",
        "loader / pandas",
        "history / empty",
        "full rebuild",
        "fixed: dbt_parse",
        "fixed-cost split",
        "target fixed_cost_share",
        "DuckDB memory_limit",
        "machine probe: start",
        "machine probe: end",
    ):
        assert phrase in text


def test_a_history_load_from_an_earlier_run_says_so_beside_the_rebuild_ratio(figures):
    """A kept history's load was timed by the run that loaded it: the rebuild ratio says when,
    and the machine probe then and at the rebuild (the machine's speed drifts over hours)."""
    from bench.run import targets

    assert "note" not in targets(figures, "year")["rebuild_vs_history_load"]  # loaded in this run
    reused = json.loads(json.dumps(figures))
    reused["history_load"] |= {
        "reused_from": "history_30_3_1d_loader_x.duckdb",
        "loaded_at": "2026-12-07T03:14:00+00:00",
    }
    reused["history_load"]["machine_probe"]["seconds"] = 0.55
    reused["rebuild"]["machine_probe"]["seconds"] = 0.47
    note = targets(reused, "year")["rebuild_vs_history_load"]["note"]
    assert note == (
        "history load measured by an earlier run at 2026-12-07T03:14:00+00:00 (machine probe 0.55 s then, "
        "0.47 s at the rebuild); --fresh-history measures both in one run"
    )
    del reused["history_load"]["machine_probe"]  # a history kept before the probe existed
    assert "no machine probe then" in targets(reused, "day")["rebuild_vs_history_load"]["note"]
    assert targets(reused, "day")["rebuild_vs_history_load"]["note"].startswith("the target is for a year")


def test_flat_in_history_judges_the_night_against_a_years_run(figures, tmp_path):
    """--compare-with: a 3y run's night against a year's at the same volume (<= 1.1 x)."""
    from bench.run import compared_with, targets

    year = json.loads(json.dumps(figures))
    year["scale"]["name"] = "year"
    year["nightly"]["history"]["seconds"] = figures["nightly"]["history"]["seconds"] / 2
    path = tmp_path / "year.json"
    path.write_text(json.dumps(year))
    night = dict(figures, compared_with=compared_with(path, per_day=30))
    judged = targets(night, "3y")["nightly_3y_vs_year"]
    assert judged["value"] == 2.0 and judged["met"] is False and "note" not in judged
    assert "3y against a year, not day against year" in targets(night, "day")["nightly_3y_vs_year"]["note"]
    with pytest.raises(SystemExit, match="not a complete run at 45,000 declarations a day"):
        compared_with(path, per_day=45_000)


def test_pandas_path_applies_the_contract(sample_landing):
    from bench.pandas_path import check_frame
    from ingest.landing.contracts import contract_for

    path = next(sample_landing.glob("clearance_declarations_*.csv.gz"))
    contract = contract_for(path.name)
    df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    assert len(check_frame(df, contract, path.name)) == len(df)
    bad = df.copy()
    bad.loc[3, "transport_mode"] = "RAIL"
    with pytest.raises(ValueError, match="transport_mode"):
        check_frame(bad, contract, path.name)
    dup = pd.concat([df, df.head(1)], ignore_index=True)
    with pytest.raises(ValueError, match="duplicate"):
        check_frame(dup, contract, path.name)
