"""One benchmark step per process: ``python -m bench.steps STEP RESULT_JSON [ARGS_JSON]``.

bench/run.py starts each step as its own process so that the peak RSS it reads (os.wait4) is
that step's alone, and the wall time it sees includes the interpreter and imports; the step
itself writes the time of its work proper (``seconds``) and any counts into RESULT_JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

T0 = time.perf_counter()


def _files(args) -> list[Path]:
    return [Path(p) for p in args["files"]]


def step_import_ingest(args) -> dict:
    """Import the project's pipeline (DuckDB, pyarrow, pandas, Great Expectations)."""
    from ingest.run import pipeline  # noqa: F401

    return {"seconds": time.perf_counter() - T0}


def step_gx_setup(args) -> dict:
    """The first door check of a process: GX context, datasource and suite, on a 1-row frame."""
    import pandas as pd

    from ingest.gx import validate_frame
    from ingest.landing.checks import door_suite
    from ingest.landing.contracts import load_contracts

    imported = time.perf_counter()
    contract = load_contracts()["clearance_declarations"]
    frame = pd.DataFrame({c: pd.Series([None], dtype="object") for c in contract.column_names})
    validate_frame(frame, door_suite(contract))
    return {"seconds": time.perf_counter() - imported, "import_seconds": imported - T0}


def step_airflow_parse(args) -> dict:
    """Import Airflow and parse the project's DAG file, as a scheduler or `dags test` does."""
    import airflow  # noqa: F401

    imported = time.perf_counter()
    from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=args["dags_folder"], include_examples=False)
    if bag.import_errors or "swpm_nightly" not in bag.dags:
        raise SystemExit(f"DAG parse failed: {bag.import_errors}")
    return {"seconds": time.perf_counter() - imported, "import_seconds": imported - T0}


def step_dbt_parse(args) -> dict:
    """dbt's parse of the project (what every `dbt build` pays before running a model)."""
    from ingest.config import Home
    from ingest.run.dbt import run_dbt

    home = Home.resolve(args["home"])
    imported = time.perf_counter()
    run_dbt(home, "parse")
    return {"seconds": time.perf_counter() - imported, "import_seconds": imported - T0}


def step_keep_home(args) -> dict:
    """What a scheduled home keeps from the night before, made in a new one: dbt's target (its
    partial parse) and the mart checks registered in GX's context."""
    from ingest.config import Home
    from ingest.run.mart_checks import register_checks

    parsed = step_dbt_parse(args)
    register_checks(Home.resolve(args["home"]))
    return parsed


def step_floor(args) -> dict:
    """DuckDB's own reader, per file, into a table with the contract's explicit schema: the
    fastest this machine can take the same files in, with no checks."""
    import duckdb

    from ingest.landing.contracts import contract_for

    con = duckdb.connect(args["database"])
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    start = time.perf_counter()
    created = set()
    for path in _files(args):
        contract = contract_for(path.name)
        table = contract.source_kind
        if table not in created:
            cols = ", ".join(f'"{c.name}" {c.type}' for c in contract.columns)
            con.execute(f"CREATE TABLE {table} ({cols})")
            created.add(table)
        con.execute(
            f"INSERT INTO {table} SELECT * FROM read_csv($path, columns = $columns, header = true, "
            "auto_detect = false, delim = $delim, compression = $compression, nullstr = $nullstr)",
            {
                "path": str(path),
                "columns": {c.name: c.type for c in contract.columns},
                "delim": contract.delimiter,
                "compression": contract.compression,
                "nullstr": contract.null_strings[0] if len(contract.null_strings) == 1 else list(contract.null_strings),
            },
        )
    rows = sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in created)
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - start
    con.close()
    return {"seconds": seconds, "rows": rows, "duckdb_threads": threads}


def step_loader(args) -> dict:
    """The project's loader (discover, hash, door checks with GX, typed checks, insert with
    lineage and manifest, one transaction per file) over every file in the home's landing/.
    Great Expectations' import and door context are set up before the clock starts: a fixed
    cost per process, measured on its own as ``gx_setup`` (the floor and pandas steps likewise
    import their libraries first)."""
    from ingest.config import Home
    from ingest.run import pipeline

    home = Home.resolve(args["home"])
    imported = time.perf_counter()
    from ingest import gx

    gx.warm_up()
    start = time.perf_counter()
    outcomes = pipeline.load(home, args.get("batch_id", "bench"))
    seconds = time.perf_counter() - start
    bad = [o.as_dict() for o in outcomes if o.status != "loaded"]
    if bad:
        raise SystemExit(f"loader did not load every file: {bad[:2]}")
    return {
        "seconds": seconds,
        "rows": sum(o.rows_loaded for o in outcomes),
        "files": len(outcomes),
        "import_seconds": imported - T0,
        "setup_seconds": start - imported,
    }


def step_bulk_history(args) -> dict:
    """A history for the benchmark, faster than the loader: the loader's own read, insert with
    lineage and manifest entry per file, but without the door checks (the files are the sample
    world's, which pass them; the loader's speed is measured on its own).

    Day by day, each day ending in a checkpoint, as each night's load ends (its connection closes
    with one): the raw tables' row groups are then laid out as nightly loads leave them. Loaded
    in one go, DuckDB checkpointed only when its log filled (every 20 days or so), which left
    runs of part-full row groups that the first night's checkpoint merged: about a second of
    that one night at three years, none at one (docs/performance.md). The day checkpoints' time
    is reported on its own (``day_checkpoint_seconds``) and is not in ``seconds``."""
    from ingest.config import Home
    from ingest.landing import load as loader
    from ingest.landing.checks import typed_sql
    from ingest.landing.contracts import contract_for
    from ingest.landing.outcome import FileOutcome, utc_now
    from ingest.landing.read import read_text_rows
    from ingest.warehouse import connect

    home = Home.resolve(args["home"])
    start = time.perf_counter()
    checkpoints = 0.0
    rows = 0
    files = []  # (day, name, contract, path), sorted into date order
    for p in home.landing.iterdir():
        contract = contract_for(p.name)
        files.append((contract.data_date(p.name) or "", p.name, contract, p))
    files.sort()
    with connect(home) as con:
        for i, (day, _, contract, path) in enumerate(files):
            sha = loader.sha256_of(path)
            read_text_rows(con, path, contract)
            n = con.execute("SELECT count(*) FROM delivered").fetchone()[0]
            casts = ", ".join(typed_sql(c, '"' + c.name + '"') for c in contract.columns)
            con.execute("BEGIN")
            con.execute(
                f"INSERT INTO {contract.raw_table} SELECT {casts}, $file, $sha, _source_line, $batch, $now "
                "FROM delivered",
                {"file": path.name, "sha": sha, "batch": "bench-history", "now": utc_now()},
            )
            outcome = FileOutcome(path.name, "loaded", contract.source_kind, sha, n, n)
            loader.record_outcome(con, outcome, path.stat().st_size, day or None, "bench-history")
            con.execute("COMMIT")
            rows += n
            if i + 1 == len(files) or files[i + 1][0] != day:
                con.execute("DROP TABLE IF EXISTS delivered")
                at = time.perf_counter()
                con.execute("CHECKPOINT")
                checkpoints += time.perf_counter() - at
    return {
        "seconds": time.perf_counter() - start - checkpoints,
        "day_checkpoint_seconds": checkpoints,
        "rows": rows,
        "files": len(files),
    }


def step_pandas(args) -> dict:
    """The usual alternative: pandas read_csv, the same contract checks in pandas, to_sql."""
    from bench.pandas_path import load_files

    start = time.perf_counter()
    out = load_files(_files(args), args["database"])
    out["seconds"] = time.perf_counter() - start
    out["import_seconds"] = start - T0
    return out


def _timed(parts: dict, name: str, fn):
    start = time.perf_counter()
    value = fn()
    parts[name] = time.perf_counter() - start
    return value


def step_nightly(args) -> dict:
    """One night as the DAG runs it (the same functions): load the new files, dbt build
    (incremental), the GX mart checks, publish the snapshot."""
    import datetime as dt

    from ingest.config import Home
    from ingest.run import pipeline

    home = Home.resolve(args["home"])
    day = dt.date.fromisoformat(args["date"])
    batch = pipeline.new_batch_id(day, "bench")
    parts: dict[str, float] = {"import": time.perf_counter() - T0}
    outcomes = _timed(parts, "load", lambda: pipeline.load(home, batch, until=day))
    if any(o.status != "loaded" for o in outcomes):
        raise SystemExit(f"nightly load failed: {[o.as_dict() for o in outcomes if o.status != 'loaded'][:2]}")
    result = _timed(parts, "build", lambda: pipeline.build(home, full_refresh=args.get("full_refresh", False)))
    _timed(parts, "check", lambda: pipeline.check(home))
    _timed(parts, "publish", lambda: pipeline.publish(home, batch))
    work = sum(v for k, v in parts.items() if k != "import")
    slowest = sorted(result.nodes, key=lambda n: -n["seconds"])[:12]
    by_kind: dict[str, float] = {}
    for n in result.nodes:
        by_kind[n["resource_type"]] = round(by_kind.get(n["resource_type"], 0.0) + n["seconds"], 3)
    return {
        "seconds": work,
        "parts": parts,
        "rows": sum(o.rows_loaded for o in outcomes),
        "files": len(outcomes),
        "dbt_seconds_by_kind": by_kind,
        "dbt_nodes_slowest": [{k: n[k] for k in ("name", "resource_type", "seconds")} for n in slowest],
    }


def step_probe(args) -> dict:
    """The machine's speed now: the same fixed work each time, so that runs made hours apart (a
    virtual machine's speed drifts) can be told apart from a change of code. DuckDB on its
    threads (hashing and summing a range, no I/O) and pure Python (a loop); the median of 3."""
    import statistics

    import duckdb

    rows = int(args.get("duckdb_rows", 40_000_000))
    loops = int(args.get("python_loops", 3_000_000))
    con = duckdb.connect()
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    duck, python = [], []
    for _ in range(3):
        start = time.perf_counter()
        con.execute("SELECT sum(hash(i) % 1000) FROM range($n) AS t(i)", {"n": rows}).fetchone()
        duck.append(time.perf_counter() - start)
        start = time.perf_counter()
        total = 0
        for i in range(loops):
            total += i * i % 7
        python.append(time.perf_counter() - start)
    con.close()
    duck_seconds, python_seconds = statistics.median(duck), statistics.median(python)
    return {
        "duckdb_seconds": round(duck_seconds, 3),
        "duckdb_rows": rows,
        "duckdb_threads": threads,
        "python_seconds": round(python_seconds, 3),
        "python_loops": loops,
        "seconds": round(duck_seconds + python_seconds, 3),
    }


def step_machine(args) -> dict:
    import os
    import platform

    import psutil

    cpu = platform.processor()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = {}
    for dist in (
        "duckdb",
        "pandas",
        "pyarrow",
        "great_expectations",
        "apache-airflow",
        "dbt-core",
        "dbt-duckdb",
        "sqlalchemy",
        "duckdb-engine",
    ):
        try:
            from importlib.metadata import version

            versions[dist] = version(dist)
        except Exception:  # noqa: BLE001 - a missing distribution is simply not listed
            pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "engine_settings": engine_settings(),
    }


def engine_settings() -> dict:
    """The dbt profile's tunables as this run sets them: the environment's value, else the
    profile's default (DuckDB's memory limit moves both time and peak RSS)."""
    import os
    import re

    from ingest.config import DBT_PROJECT_DIR

    profile = (DBT_PROJECT_DIR / "profiles.yml").read_text()
    settings = {}
    for name in ("SWPM_DUCKDB_MEMORY_LIMIT", "SWPM_DBT_THREADS"):
        default = re.search(rf"env_var\('{name}', '([^']*)'\)", profile)
        settings[name] = os.environ.get(name) or (default.group(1) if default else None)
    return settings


def step_generate(args) -> dict:
    """The sample world's files (kept: a file that exists is not written again)."""
    import datetime as dt

    from ingest.sample_world.clearance import generate_days

    start = time.perf_counter()
    written = 0
    for folder, days, per_day in args["days"]:
        written += len(generate_days(Path(folder), [dt.date.fromisoformat(d) for d in days], per_day, args["seed"]))
    return {"seconds": time.perf_counter() - start, "days_written": written}


def main() -> None:
    step, result_path = sys.argv[1], Path(sys.argv[2])
    args = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    out = globals()[f"step_{step}"](args)
    result_path.write_text(json.dumps(out, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
