"""What dbt itself costs a night, below which no night's fixed part can go.
``python -m bench.dbt_floor --work bench/work/dbt_floor``

In one warm process (dbt imported, the project parsed once, as a long-lived runner would keep
it), each the median of ``--repeats`` builds:

- the project's own build of a night with no new rows, on a home built once from a small sample
  day: every model, seed and data test the night runs, with nothing to do;
- a throwaway dbt project of as many models and data tests, whose SQL does nothing (``select 1``,
  and ``not_null``/``unique``/``accepted_values`` on that one row), on the same adapter: dbt's own
  work per node, apart from any SQL of ours. Also its models alone (``dbt run``), its tests alone
  (``dbt test``), and its models under a materialization of one statement and no table.

Beside them, the budget the fixed-cost target leaves a night (issue 19: the fixed part at most
30 % of the night of one real day): fixed <= 0.3 / 0.7 x the per-row cost x the real day's rows,
from a day run of ``bench.run`` (``--day-json``). Writes JSON (default
bench/results/dbt_floor.json) and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.run import PROJECT

FIXED_SHARE_TARGET = 0.30
# The least a materialization can do: one statement, no catalogue look-up, no table. What dbt
# itself costs a model, whatever the adapter's materializations do (only `dbt run`: no test can
# read a model it leaves no table for).
STATEMENT_ONLY = """{% materialization statement_only, default %}
  {% call statement('main') %}select 1{% endcall %}
  {{ return({'relations': []}) }}
{% endmaterialization %}
"""
TRIVIAL_TESTS = ("not_null", "unique", "accepted_values:\n              arguments:\n                values: [1]")


def budget(day: dict) -> dict:
    """The fixed seconds the target allows: fixed / (fixed + per_row x rows) <= share."""
    fit = day["fixed_vs_per_row"]["process_total"]
    rows = day["nightly"]["empty"]["rows"]
    per_rows = fit["microseconds_per_row"] * rows / 1e6
    return {
        "real_day_rows": rows,
        "microseconds_per_row": fit["microseconds_per_row"],
        "rows_seconds": round(per_rows, 3),
        "night_fixed_seconds": fit["fixed_seconds"],
        "fixed_seconds_allowed": round(FIXED_SHARE_TARGET / (1 - FIXED_SHARE_TARGET) * per_rows, 3),
    }


def write_trivial_project(root: Path, models: int, tests: int, threads: int) -> Path:
    """``models`` models (ten ``select 1``, each other one reading one of them, so dbt orders them)
    and ``tests`` data tests spread over them, three a model at most."""
    if tests > 3 * models:
        raise ValueError(f"{tests} tests do not fit on {models} models at three a model")
    if root.exists():
        shutil.rmtree(root)
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        "name: trivial\nversion: '1.0'\nprofile: trivial\n"
        "models:\n  trivial:\n    +materialized: \"{{ var('materialized', 'table') }}\"\n"
    )
    (root / "profiles.yml").write_text(
        "trivial:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {root / 'trivial.duckdb'}\n      threads: {threads}\n"
    )
    yml = ["version: 2", "models:"]
    left = tests
    for i in range(models):
        sql = "select 1 as id" if i < 10 else f"select * from {{{{ ref('m{i % 10:03d}') }}}}"
        (root / "models" / f"m{i:03d}.sql").write_text(sql + "\n")
        mine = min(3, left, -(-left // (models - i)))
        left -= mine
        yml += [f"  - name: m{i:03d}", "    columns:", "      - name: id"]
        if mine:
            yml += ["        data_tests:"] + [f"          - {t}" for t in TRIVIAL_TESTS[:mine]]
    (root / "models" / "schema.yml").write_text("\n".join(yml) + "\n")
    (root / "macros").mkdir()
    (root / "macros" / "statement_only.sql").write_text(STATEMENT_ONLY)
    return root


def timed(repeats: int, run) -> dict:
    """``run()`` -> the (resource type, seconds) of each node it ran, ``repeats`` times: the median
    wall, and the last run's nodes by kind and their seconds."""
    seconds, ran = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        ran = run()
        seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    return {
        "seconds": round(median, 3),
        "all_seconds": [round(s, 3) for s in seconds],
        "nodes": dict(Counter(kind for kind, _ in ran)),
        "node_seconds_last": round(sum(s for _, s in ran), 3),
        "milliseconds_per_node": round(1000 * median / len(ran), 1) if ran else None,
    }


def dbt_command(manifest, cli: list[str]):
    """A ``run()`` for timed: one dbt command on a parsed manifest."""
    from dbt.cli.main import dbtRunner

    def run() -> list[tuple[str, float]]:
        res = dbtRunner(manifest=manifest).invoke(cli)
        if not res.success:
            raise SystemExit(f"dbt failed: {res.exception or res.result}")
        return [(str(r.node.resource_type), r.execution_time or 0.0) for r in res.result.results]

    return run


def trivial(root: Path, models: int, tests: int, threads: int, repeats: int) -> dict:
    from dbt.cli.main import dbtRunner

    write_trivial_project(root, models, tests, threads)
    paths = ["--project-dir", str(root), "--profiles-dir", str(root), "--target-path", str(root / "target")]
    quiet = ["--no-write-json", "--quiet"]
    out = {"models": models, "tests": tests, "threads": threads}
    for materialized in ("table", "view", "statement_only"):
        vars_ = ["--vars", json.dumps({"materialized": materialized})]
        parsed = dbtRunner().invoke(["parse", *paths, *vars_, "--quiet"])
        if not parsed.success:
            raise SystemExit(f"dbt parse of {root} failed: {parsed.exception}")
        for command in ("run",) if materialized == "statement_only" else ("build", "run", "test"):
            cli = [command, *paths, *vars_, *quiet]
            out[f"{command}_{materialized}"] = timed(repeats, dbt_command(parsed.result, cli))
    return out


def home_of_one_night(home_dir: Path, declarations: int) -> Path:
    """A new home, loaded and built once with a sample day of ``declarations``, as `swpm` does."""
    swpm = [sys.executable, "-m", "ingest.cli", "--home", str(home_dir)]
    if home_dir.exists():
        shutil.rmtree(home_dir)
    start = dt.date(2019, 1, 1)
    for cmd in (
        ["generate", "--start", start.isoformat(), "--days", "2", "--declarations-per-day", str(declarations)],
        ["run", "--date", (start + dt.timedelta(days=1)).isoformat(), "--through", "build"],
    ):
        subprocess.run([*swpm, *cmd], check=True, cwd=PROJECT, capture_output=True, timeout=900)
    return home_dir


def project_night(home_dir: Path, repeats: int) -> dict:
    """The project's night with no new rows on a built home: ``dbt build`` as the night runs it."""
    from ingest.config import Home
    from ingest.run import pipeline

    home = Home.resolve(str(home_dir))
    pipeline.build(home)  # this process's parse, off the clock
    night = timed(repeats, lambda: [(n["resource_type"], n["seconds"]) for n in pipeline.build(home).nodes])
    return night | {"nodes_fed_by_clearance": nodes_fed_by(home, "source:clearance+")}


def nodes_fed_by(home, selector: str) -> dict:
    """The models, seeds and tests a night whose only new files are clearance files would have to
    run even if it skipped every node those files do not feed (dbt's graph selection)."""
    from dbt.cli.main import dbtRunner

    from ingest.run.dbt import INTRADAY_TAG, _manifest, _prepare

    paths = _prepare(home)
    cli = ["ls", *paths, "--select", selector, "--exclude", f"tag:{INTRADAY_TAG}", "--log-level", "none"]
    listed = dbtRunner(manifest=_manifest(paths)).invoke([*cli, "--output", "json", "--output-keys", "resource_type"])
    kinds = Counter(json.loads(line)["resource_type"] for line in listed.result or [])
    return {kind: kinds[kind] for kind in ("model", "seed", "test")}


def least_fed_seconds(f: dict) -> float:
    """The clearance-fed nodes at the select-1 project's cost a model (``run``) and a test."""
    fed, t = f["project_night_no_rows"]["nodes_fed_by_clearance"], f["trivial"]
    per_model = min(t["run_view"]["milliseconds_per_node"], t["run_table"]["milliseconds_per_node"])
    return ((fed["model"] + fed["seed"]) * per_model + fed["test"] * t["test_table"]["milliseconds_per_node"]) / 1000


def clearance_models_at_one_statement(f: dict) -> float:
    """The clearance-fed models alone, no test, at the one-statement materialization's cost."""
    fed, t = f["project_night_no_rows"]["nodes_fed_by_clearance"], f["trivial"]
    return fed["model"] * t["run_statement_only"]["milliseconds_per_node"] / 1000


def table(f: dict) -> str:
    b, night, t = f["budget"], f["project_night_no_rows"], f["trivial"]
    lines = [
        f"{'what (one warm process, median of ' + str(f['repeats']) + ')':<58} {'seconds':>8} {'nodes':>6} {'ms/node':>8}",
    ]

    def row(label: str, r: dict) -> None:
        lines.append(
            f"{label:<58} {r['seconds']:>8.2f} {sum(r['nodes'].values()):>6} {r['milliseconds_per_node']:>8.1f}"
        )

    row("the project's night with no new rows (dbt build)", night)
    for mat in ("table", "view"):
        row(f"select-1 project, same node count, build ({mat}s)", t[f"build_{mat}"])
        row(f"select-1 project, its models alone, run ({mat}s)", t[f"run_{mat}"])
    row("select-1 project, its tests alone, test", t["test_table"])
    row("select-1 project, its models alone, one statement each", t["run_statement_only"])
    lines.append(
        f"budget: a night's fixed part <= {b['fixed_seconds_allowed']:.2f} s (30 % of a real day's night: "
        f"{b['microseconds_per_row']} us a row x {b['real_day_rows']:,} rows = {b['rows_seconds']:.2f} s of rows); "
        f"measured fixed part {b['night_fixed_seconds']:.2f} s"
    )
    floor = min(t["run_view"]["seconds"], t["run_table"]["seconds"])
    lines.append(
        f"dbt alone, the models only, SQL that does nothing: {floor:.2f} s = "
        f"{floor / b['fixed_seconds_allowed']:.1f} x that budget"
    )
    fed = night["nodes_fed_by_clearance"]
    least = least_fed_seconds(f)
    lines.append(
        f"the fewest a clearance day must run (source:clearance+: {fed['model']} models, {fed['seed']} seeds, "
        f"{fed['test']} tests) at the select-1 cost a node: {least:.2f} s = {least / b['fixed_seconds_allowed']:.1f} x"
    )
    bare = clearance_models_at_one_statement(f)
    lines.append(
        f"its {fed['model']} models alone at one statement each, no test: {bare:.2f} s = "
        f"{bare / b['fixed_seconds_allowed']:.1f} x"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.dbt_floor", description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=PROJECT / "bench" / "work" / "dbt_floor")
    p.add_argument("--out", type=Path, default=PROJECT / "bench" / "results" / "dbt_floor.json")
    p.add_argument("--day-json", type=Path, default=PROJECT / "bench" / "results" / "day.json")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--declarations", type=int, default=200, help="a day of the home's one night")
    p.add_argument("--threads", type=int, default=2, help="dbt threads of the select-1 project")
    a = p.parse_args(argv)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

    from bench.steps import step_machine, step_probe

    f: dict = {"started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "repeats": a.repeats}
    f["machine"] = step_machine({})
    f["machine_probe"] = {"start": step_probe({})}
    f["budget"] = budget(json.loads(a.day_json.read_text())) | {"day_json": str(a.day_json.name)}
    night = project_night(home_of_one_night(a.work / "home", a.declarations), a.repeats)
    f["project_night_no_rows"] = night
    models = night["nodes"].get("model", 0) + night["nodes"].get("seed", 0)
    f["trivial"] = trivial(a.work / "trivial", models, night["nodes"].get("test", 0), a.threads, a.repeats)
    f["least_seconds_fed_by_clearance"] = round(least_fed_seconds(f), 3)
    f["clearance_models_at_one_statement_seconds"] = round(clearance_models_at_one_statement(f), 3)
    f["machine_probe"]["end"] = step_probe({})
    f["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(f, indent=2) + "\n")
    print(table(f))
    print(f"figures: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
