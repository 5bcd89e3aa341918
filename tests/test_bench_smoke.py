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


def test_the_bulk_history_loads_day_by_day_and_its_counts_reconcile(tmp_path, figures):
    """The year's fast history (--history-load bulk) loads the days in date order, each ending in
    a checkpoint as a night's load does, timed apart from the load; every row is in the manifest,
    and the rebuild is judged against the load without those checkpoints."""
    import datetime as dt

    import duckdb

    from bench.run import day_files, fresh_home, targets
    from bench.steps import step_bulk_history
    from ingest.sample_world.clearance import generate_days

    days = [dt.date(2019, 1, 1) + dt.timedelta(days=i) for i in range(3)]
    generate_days(tmp_path / "source", days, 20, 5)
    files = [p for d in days for p in day_files(tmp_path / "source", d)]
    home = fresh_home(tmp_path / "home", files)
    out = step_bulk_history({"home": str(home)})
    assert out["files"] == len(files) and out["day_checkpoint_seconds"] > 0
    with duckdb.connect(str(home / "warehouse" / "swpm.duckdb"), read_only=True) as con:
        held = sum(
            con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0]
            for t in ("clearance_declarations", "clearance_events")
        )
        manifest = con.execute("SELECT sum(rows_loaded) FROM meta.file_manifest WHERE status = 'loaded'").fetchone()[0]
        # The declarations' and events' files in the order their rows were written.
        written = [
            r[0]
            for r in con.execute(
                "SELECT _source_file FROM raw.clearance_declarations GROUP BY _source_file ORDER BY min(rowid)"
            ).fetchall()
        ]
    assert held == manifest == out["rows"]
    assert written == [f"clearance_declarations_{d:%Y%m%d}.csv.gz" for d in days]

    laid_out = json.loads(json.dumps(figures))
    laid_out["history_load"] |= {"wall_seconds": 10.0, "day_checkpoint_seconds": 2.0}
    laid_out["rebuild"]["wall_seconds"] = 6.0
    assert targets(laid_out, "year")["rebuild_vs_history_load"]["value"] == 0.75


def test_flat_in_history_alternates_the_two_nights_on_their_rebuilt_histories(tmp_path):
    """bench.flat on two short histories kept as bench.run keeps them: a rebuild each, then the
    nights alternated, each on its rebuilt history restored; the ratio is of the two medians."""
    import datetime as dt
    import shutil

    from bench import flat
    from bench.run import START, day_files, fresh_home, history_cache
    from bench.steps import step_bulk_history
    from ingest.sample_world.clearance import generate_days

    work, per_day, seed = tmp_path / "work", 20, 7
    days = {"year": 2, "3y": 3}
    source = work / f"source_{per_day}_{seed}"
    for side, n in days.items():
        history = [START + dt.timedelta(days=i) for i in range(n)]
        generate_days(source, history, per_day, seed)
        home = fresh_home(tmp_path / f"load_{side}", [p for d in history for p in day_files(source, d)])
        step_bulk_history({"home": str(home)})
        cache = history_cache(work, per_day, seed, n, "bulk")
        shutil.copy2(home / "warehouse" / "swpm.duckdb", cache)

    f = flat.run(work, tmp_path / "flat.json", per_day, seed, 2, "bulk", lambda *_: None, days, in_process=True)
    assert json.loads((tmp_path / "flat.json").read_text())["complete"] is True
    for side, n in days.items():
        assert f[side]["history_days"] == n and len(f[side]["seconds"]) == 2
        assert f[side]["new_day"] == (START + dt.timedelta(days=n)).isoformat()
    assert f["ratio_of_medians"] == round(f["3y"]["median_seconds"] / f["year"]["median_seconds"], 3)
    assert len(f["ratio_each_pair"]) == 2
    assert f["target"]["met"] is (f["ratio_of_medians"] <= 1.1)
    assert "target nightly_3y_vs_year" in flat.table(f)
    with pytest.raises(SystemExit, match="no loaded history"):
        flat.run(work, tmp_path / "none.json", per_day + 1, seed, 1, "bulk", lambda *_: None, days, in_process=True)


def test_dbt_floor_counts_the_nights_nodes_and_a_select_1_project_of_as_many(built_home, tmp_path):
    """bench.dbt_floor: the project's night with no new rows runs every node of the night, the
    select-1 project has the node counts it is given, and the budget is the target's arithmetic."""
    from bench import dbt_floor

    night = dbt_floor.project_night(built_home.root, repeats=1)
    assert night["nodes"]["model"] > 40 and night["nodes"]["test"] > 100 and night["nodes"]["seed"] > 0
    fed = night["nodes_fed_by_clearance"]
    assert 0 < fed["model"] < night["nodes"]["model"] and 0 < fed["test"] < night["nodes"]["test"]

    t = dbt_floor.trivial(tmp_path / "trivial", models=12, tests=20, threads=2, repeats=1)
    assert t["build_table"]["nodes"] == {"model": 12, "test": 20} == t["build_view"]["nodes"]
    assert t["run_view"]["nodes"] == {"model": 12} == t["run_statement_only"]["nodes"]
    assert t["test_table"]["nodes"] == {"test": 20}
    with pytest.raises(ValueError, match="do not fit"):
        dbt_floor.write_trivial_project(tmp_path / "too_many", models=2, tests=7, threads=1)

    day = {"fixed_vs_per_row": {"process_total": {"microseconds_per_row": 4.0, "fixed_seconds": 9.0}}}
    day["nightly"] = {"empty": {"rows": 700_000}}
    b = dbt_floor.budget(day)
    assert b["rows_seconds"] == 2.8 and b["fixed_seconds_allowed"] == 1.2  # 1.2 / (1.2 + 2.8) = 30 %
    f = {"repeats": 1, "budget": b, "project_night_no_rows": night, "trivial": t}
    assert "the fewest a clearance day must run" in dbt_floor.table(f)
