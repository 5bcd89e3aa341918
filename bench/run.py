"""The benchmark: the warehouse at real scale on this machine, against the floor and against
the usual alternative. ``make bench`` (``--scale week``), or
``python -m bench.run --scale day|week|year [--per-day N] [--repeats R]``.

Real volume (docs/domain.md#scale-of-the-real-system): 45,000 declarations a day, about 7 milestone
events each in the sample world. A scale is the history a warehouse holds (day = 1, week = 7,
year = 365 cohort days from 2019-01-01, 3y = 1,096: 2019-2021) plus one new day after it. Every step runs in its own
process (bench/steps.py), so its peak RSS is its own. Prints a table and writes the figures as
JSON (bench/results/<scale>.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ingest.files import write_atomic

PROJECT = Path(__file__).resolve().parent.parent
# 3y: the calendar years 2019-2021 (2020 is a leap year), so that its night is a 1 January as the year's.
SCALES = {"day": 1, "week": 7, "year": 365, "3y": 1096}
START = dt.date(2019, 1, 1)
REAL_PER_DAY = 45_000
# The targets of docs/performance.md (the second round; loader / pandas from the first).
TARGETS = {
    "loader_vs_floor_min": 0.9,
    "loader_vs_pandas_min": 100.0,
    "fixed_cost_share_max": 0.30,
    "nightly_history_vs_empty_max": 1.3,
    "nightly_history_peak_rss_gib_max": 3.0,
    "rebuild_peak_rss_gib_max": 4.0,
    "rebuild_vs_history_load_max": 1.0,
    # Flat in history: the night at three years against the night at one (--compare-with).
    "nightly_3y_vs_year_max": 1.1,
}


class StepFailed(RuntimeError):
    pass


class Bench:
    def __init__(self, work: Path, out: Path, log=print, in_process: bool = False):
        self.in_process = in_process  # the smoke test: same steps, no process per step
        self.work = work
        self.out = out
        self.log = log
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.figures: dict = {}
        self.env = dict(os.environ)
        self.env.setdefault("GX_ANALYTICS_ENABLED", "False")
        self.env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
        self.env.setdefault("DO_NOT_TRACK", "1")
        self.env.setdefault("AIRFLOW_HOME", str(work / "airflow_home"))
        self.env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        self.env["PYTHONPATH"] = str(PROJECT) + os.pathsep + self.env.get("PYTHONPATH", "")

    def process(self, cmd: list[str], name: str) -> tuple[float, float, int]:
        """Run a process; its wall seconds, peak RSS (MiB, from its own rusage) and exit code.
        The page cache is written out first, untimed: a step that follows one writing gigabytes (a
        rebuild, a warehouse copied in) would otherwise pay for that write-back, by a varying
        amount, in its own first commit; a scheduled night follows nothing like it."""
        os.sync()
        with open(self.logs / f"{name}.log", "ab") as logfh:
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=logfh, stderr=subprocess.STDOUT, cwd=PROJECT, env=self.env)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        return wall, usage.ru_maxrss / 1024.0, proc.returncode

    def step(self, name: str, args: dict | None = None, label: str | None = None) -> dict:
        label = label or name
        if self.in_process:
            import resource

            from bench import steps

            start = time.perf_counter()
            out = json.loads(json.dumps(getattr(steps, f"step_{name}")(args or {}), default=str))
            out.update(
                wall_seconds=time.perf_counter() - start,
                peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            )
            return out
        result = self.logs / f"{label}.result.json"
        result.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "bench.steps", name, str(result), json.dumps(args or {})]
        wall, rss, code = self.process(cmd, label)
        if code != 0 or not result.exists():
            tail = (self.logs / f"{label}.log").read_text(errors="replace")[-2000:]
            raise StepFailed(f"step {label} failed (exit {code}); log {self.logs / f'{label}.log'}:\n{tail}")
        out = json.loads(result.read_text())
        out.update(wall_seconds=wall, peak_rss_mib=round(rss, 1))
        return out

    def probe(self) -> dict:
        """The machine's speed now (bench/steps.py, step_probe); less work in the smoke test."""
        return self.step("probe", {"duckdb_rows": 1_000_000, "python_loops": 100_000} if self.in_process else {})

    def repeated(self, n: int, run) -> dict:
        """Median of ``n`` runs of ``run(i) -> dict`` (seconds, wall_seconds, parts), max RSS."""
        return self.summary([run(i) for i in range(n)])

    @staticmethod
    def summary(runs: list[dict]) -> dict:
        """The runs of one step: medians of seconds, wall_seconds and parts, max RSS, each run's seconds."""
        out = dict(runs[0])
        for key in ("seconds", "wall_seconds"):
            if key in out:
                out[key] = statistics.median(r[key] for r in runs)
        if "parts" in out:
            out["parts"] = {k: statistics.median(r["parts"][k] for r in runs) for k in out["parts"]}
        out["peak_rss_mib"] = max(r["peak_rss_mib"] for r in runs)
        out["runs"] = len(runs)
        out["all_seconds"] = [round(r.get("seconds", r["wall_seconds"]), 3) for r in runs]
        return out

    def save(self, final: bool = False) -> None:
        self.figures["complete"] = final
        self.out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.out, json.dumps(self.figures, indent=2, default=str) + "\n")


def gzip_size(path: Path) -> int:
    """Uncompressed size from the gzip trailer (files here are far below 4 GiB)."""
    with open(path, "rb") as fh:
        fh.seek(-4, 2)
        return int.from_bytes(fh.read(4), "little")


def throughput(result: dict, files: list[Path]) -> dict:
    seconds = result["seconds"]
    gz = sum(p.stat().st_size for p in files)
    text = sum(gzip_size(p) for p in files)
    return {
        "rows": result["rows"],
        "seconds": round(seconds, 3),
        "rows_per_s": round(result["rows"] / seconds),
        "mb_per_s_gzip": round(gz / 1e6 / seconds, 2),
        "mb_per_s_csv": round(text / 1e6 / seconds, 2),
        "wall_seconds": round(result["wall_seconds"], 3),
        "peak_rss_mib": result["peak_rss_mib"],
        "all_seconds": result.get("all_seconds"),
    } | (
        {"day_checkpoint_seconds": round(result["day_checkpoint_seconds"], 3)}
        if "day_checkpoint_seconds" in result
        else {}
    )


def fresh_home(root: Path, files: list[Path]) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    landing = root / "landing"
    landing.mkdir(parents=True)
    for f in files:
        try:
            os.link(f, landing / f.name)  # the loader only reads landed files; a year is 1.5 GB
        except OSError:
            shutil.copy2(f, landing / f.name)
    return root


def engine_note(machine: dict) -> str:
    """The engine settings a run had (JSONs from before they were recorded say so)."""
    settings = machine.get("engine_settings")
    if not settings:
        return "engine settings not recorded"
    return f"DuckDB memory_limit {settings.get('SWPM_DUCKDB_MEMORY_LIMIT')}, dbt threads {settings.get('SWPM_DBT_THREADS')}"


def day_files(source: Path, day: dt.date) -> list[Path]:
    stamp = day.strftime("%Y%m%d")
    return [source / f"clearance_declarations_{stamp}.csv.gz", source / f"clearance_events_{stamp}.csv.gz"]


def linear_fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Intercept and slope of the line through two or more (rows, seconds) points."""
    (x0, y0), (x1, y1) = points[0], points[-1]
    slope = (y1 - y0) / (x1 - x0)
    return y0 - slope * x0, slope


def run(
    scale: str,
    per_day: int,
    repeats: int,
    work: Path,
    out: Path,
    seed: int,
    small_per_day: int,
    history_repeats: int,
    in_process: bool = False,
    log=print,
    history_load: str = "loader",
    skip: frozenset = frozenset(),
    fresh_history: bool = False,
    compare_with: Path | None = None,
) -> dict:
    history_days = [START + dt.timedelta(days=i) for i in range(SCALES[scale])]
    new_day = history_days[-1] + dt.timedelta(days=1)
    bench = Bench(work, out, log, in_process)
    f = bench.figures
    f["scale"] = {
        "name": scale,
        "history_days": len(history_days),
        "declarations_per_day": per_day,
        "new_day": new_day.isoformat(),
        "history": f"{history_days[0]}..{history_days[-1]}",
        "small_declarations_per_day": small_per_day,
        "seed": seed,
        "repeats": repeats,
    }
    f["started_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    f["machine"] = bench.step("machine")
    f["machine_probe"] = {"start": bench.probe()}
    f["loadavg_before"] = [round(x, 2) for x in os.getloadavg()]
    log(
        f"bench {scale}: {len(history_days)} day(s) of history x {per_day:,} declarations + {new_day}; "
        f"{f['machine']['cores']} cores, {f['machine']['memory_gib']} GiB, load {f['loadavg_before']}; "
        f"{engine_note(f['machine'])}"
    )

    # The data: generated once per (size, seed) and kept; a second run reuses it.
    source = work / f"source_{per_day}_{seed}"
    small_source = work / f"source_{small_per_day}_{seed}"
    # In a process of its own: this one stays small, since a child's peak RSS starts at its
    # parent's (the kernel carries it over fork and exec).
    # First the days the short sections need; the rest of the history just before its load.
    f["generate"] = bench.step(
        "generate",
        {
            "days": [
                (str(source), [d.isoformat() for d in history_days[:1] + [new_day]], per_day),
                (str(small_source), [new_day.isoformat()], small_per_day),
            ],
            "seed": seed,
        },
    )
    history_files = [p for d in history_days for p in day_files(source, d)]
    new_files = day_files(source, new_day)
    runs = work / "run"

    f["skipped_sections"] = sorted(skip)
    # Fixed costs: what any process pays before the first row.
    if "fixed" not in skip:
        fixed_costs(bench, repeats, runs)
    if "ingest" not in skip:
        ingest_section(bench, repeats, runs, day_files(source, history_days[0]))
    return nights(
        bench,
        f,
        repeats,
        history_repeats,
        runs,
        source,
        small_source,
        history_days,
        new_day,
        history_files,
        new_files,
        history_load,
        per_day,
        scale,
        fresh_history,
        compare_with,
    )


def fixed_costs(bench: Bench, repeats: int, runs: Path) -> None:
    bench.log("fixed costs ...")
    fixed = {}
    fixed["interpreter"] = bench.repeated(
        repeats,
        lambda i: dict(
            zip(("wall_seconds", "peak_rss_mib"), bench.process([sys.executable, "-c", "pass"], "interpreter")[:2])
        ),
    )
    fixed["import_ingest"] = bench.repeated(repeats, lambda i: bench.step("import_ingest"))
    fixed["gx_setup"] = bench.repeated(repeats, lambda i: bench.step("gx_setup"))
    fixed["airflow_parse"] = bench.repeated(
        repeats, lambda i: bench.step("airflow_parse", {"dags_folder": str(PROJECT / "dags")})
    )
    fixed["dbt_parse"] = bench.repeated(
        repeats, lambda i: bench.step("dbt_parse", {"home": str(fresh_home(runs / "dbt_parse", []))})
    )
    # The parse of a home whose dbt target the last run left (dbt's partial parse): what a
    # scheduled night pays after the home's first.
    kept = str(fresh_home(runs / "dbt_parse_kept", []))
    bench.step("dbt_parse", {"home": kept}, "dbt_parse_keep_target")
    fixed["dbt_parse_kept"] = bench.repeated(repeats, lambda i: bench.step("dbt_parse", {"home": kept}))
    bench.figures["fixed_costs"] = fixed
    bench.save()


def ingest_section(bench: Bench, repeats: int, runs: Path, sample: list[Path]) -> None:
    """The same files (the first history day) through the floor, the loader and pandas."""
    bench.log("ingest: floor, loader, pandas ...")

    def floor(i):
        db = runs / "floor" / "floor.duckdb"
        shutil.rmtree(db.parent, ignore_errors=True)
        db.parent.mkdir(parents=True)
        return bench.step("floor", {"files": [str(p) for p in sample], "database": str(db)}, "floor")

    def loader(i):
        home = fresh_home(runs / "loader", sample)
        return bench.step("loader", {"home": str(home)}, "loader")

    ingest = {"files": [p.name for p in sample]}
    floor_runs = bench.repeated(repeats, floor)
    ingest["floor_duckdb_read_csv"] = throughput(floor_runs, sample)
    ingest["duckdb_threads"] = floor_runs.get("duckdb_threads")
    ingest["loader"] = throughput(bench.repeated(repeats, loader), sample)
    pandas_db = runs / "pandas" / "pandas.duckdb"
    shutil.rmtree(pandas_db.parent, ignore_errors=True)
    pandas_db.parent.mkdir(parents=True)
    ingest["pandas_to_sql"] = throughput(
        bench.repeated(
            1, lambda i: bench.step("pandas", {"files": [str(p) for p in sample], "database": str(pandas_db)})
        ),
        sample,
    )
    ingest["loader_vs_floor"] = round(ingest["loader"]["rows_per_s"] / ingest["floor_duckdb_read_csv"]["rows_per_s"], 3)
    ingest["loader_vs_pandas"] = round(ingest["loader"]["rows_per_s"] / ingest["pandas_to_sql"]["rows_per_s"], 1)
    bench.figures["ingest"] = ingest
    bench.save()


def nights(
    bench: Bench,
    f: dict,
    repeats: int,
    history_repeats: int,
    runs: Path,
    source: Path,
    small_source: Path,
    history_days: list,
    new_day: dt.date,
    history_files: list,
    new_files: list,
    history_load: str,
    per_day: int,
    scale: str,
    fresh_history: bool = False,
    compare_with: Path | None = None,
) -> dict:
    log = bench.log
    work = bench.work
    # A night on an empty warehouse, at the real day size and a small one (fixed vs per row).
    # Its home keeps dbt's target from a parse before it and the mart checks registered in GX,
    # as a scheduled home keeps them from the night before; the night on the history keeps the
    # rebuild's.
    log("nightly on an empty warehouse ...")
    nightly = {}

    def empty_night(label: str, files: list[Path]) -> dict:
        home = str(fresh_home(runs / f"nightly_{label}", files))
        bench.step("keep_home", {"home": home}, f"nightly_{label}_keep_home")
        return bench.step("nightly", {"home": home, "date": new_day.isoformat()}, f"nightly_{label}")

    for label, src in (("empty", source), ("empty_small", small_source)):
        files = day_files(src, new_day)
        nightly[label] = bench.repeated(repeats, lambda i, label=label, files=files: empty_night(label, files))
    per_row = {}
    for part in ["import", "load", "build", "check", "publish"]:
        intercept, slope = linear_fit(
            [
                (nightly["empty_small"]["rows"], nightly["empty_small"]["parts"][part]),
                (nightly["empty"]["rows"], nightly["empty"]["parts"][part]),
            ]
        )
        per_row[part] = {"fixed_seconds": round(intercept, 3), "microseconds_per_row": round(slope * 1e6, 3)}
    intercept, slope = linear_fit(
        [
            (nightly["empty_small"]["rows"], nightly["empty_small"]["wall_seconds"]),
            (nightly["empty"]["rows"], nightly["empty"]["wall_seconds"]),
        ]
    )
    per_row["process_total"] = {
        "fixed_seconds": round(intercept, 3),
        "microseconds_per_row": round(slope * 1e6, 3),
        # The fixed part's share of the night of one real day (process wall).
        "fixed_share": round(intercept / nightly["empty"]["wall_seconds"], 3),
    }
    f["fixed_vs_per_row"] = per_row
    f["nightly"] = nightly
    bench.save()

    # The history, loaded by the project's loader, then a full rebuild of every mart.
    f["generate_history"] = bench.step(
        "generate",
        {"days": [(str(source), [d.isoformat() for d in history_days], per_day)], "seed": f["scale"]["seed"]},
        "generate_history",
    )
    f["history_rows_gzip_mb"] = round(sum(p.stat().st_size for p in history_files) / 1e6, 1)
    # The loaded history (raw tables and manifest, before any dbt build) is kept beside the
    # generated files, so a second run measures the rebuild and the nights without loading a
    # year again; --fresh-history loads it anyway.
    cache = history_cache(work, per_day, f["scale"]["seed"], len(history_days), history_load)
    reuse = cache.exists() and cache.with_suffix(".json").exists() and not fresh_history
    # A reused history's files are recorded in its manifest and not landed again: landed now,
    # after their manifest records, each would look changed since and be hashed by every later
    # load (ingest/landing/discover.py), which a home that landed them before loading does not.
    history = fresh_home(runs / "history", [] if reuse else history_files)
    warehouse = history / "warehouse" / "swpm.duckdb"
    if reuse:
        log(f"history: reusing the loaded history {cache.name} ...")
        warehouse.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(cache, warehouse)
        f["history_load"] = json.loads(cache.with_suffix(".json").read_text()) | {"reused_from": cache.name}
    else:
        log(f"history: loading {len(history_files)} files ({history_load}) ...")
        probe = bench.probe()  # kept with the load's figures: a later run reusing it compares
        if history_load == "loader":
            load = bench.step("loader", {"home": str(history)}, "history_load")
        else:
            load = bench.step("bulk_history", {"home": str(history)}, "history_load")
        f["history_load"] = throughput(load, history_files)
        f["history_load"]["path"] = history_load
        f["history_load"]["loaded_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        f["history_load"]["machine_probe"] = probe
        shutil.copy2(warehouse, cache)
        cache.with_suffix(".json").write_text(json.dumps(f["history_load"]))
    bench.save()
    log("history: full rebuild (dbt build --full-refresh, mart checks, publish) ...")
    probe = bench.probe()
    f["rebuild"] = bench.step(
        "nightly", {"home": str(history), "date": history_days[-1].isoformat(), "full_refresh": True}, "rebuild"
    )
    f["rebuild"]["declarations"] = per_day * len(history_days)
    f["rebuild"]["machine_probe"] = probe
    f["warehouse_mib"] = round((history / "warehouse" / "swpm.duckdb").stat().st_size / 2**20, 1)
    bench.save()

    # The same night on the warehouse holding the history; restored between repeats.
    log("nightly on the warehouse holding the history ...")
    warehouse = history / "warehouse" / "swpm.duckdb"
    backup = work / "run" / "history_backup.duckdb"
    if history_repeats > 1:
        shutil.copy2(warehouse, backup)

    def on_history(i):
        return night_on(bench, history, new_files, new_day, "nightly_history", restore=backup if i else None)

    nightly["history"] = bench.repeated(history_repeats, on_history)
    backup.unlink(missing_ok=True)
    nightly["history_vs_empty"] = round(nightly["history"]["seconds"] / nightly["empty"]["seconds"], 3)
    nightly["history_vs_empty_wall"] = round(nightly["history"]["wall_seconds"] / nightly["empty"]["wall_seconds"], 3)
    f["machine_probe"]["end"] = bench.probe()
    f["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    f["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    f["fixed_cost_split"] = fixed_cost_split(f)
    if compare_with is not None:
        f["compared_with"] = compared_with(compare_with, per_day)
    f["targets"] = targets(f, scale)
    bench.save(final=True)
    return f


def night_on(
    bench: Bench, home: Path, files: list[Path], day: dt.date, label: str, restore: Path | None = None
) -> dict:
    """One night on a home holding a history: its warehouse restored from ``restore`` first (a
    copy kept after the rebuild), the new day's ``files`` landed, then the night as the DAG runs it."""
    if restore is not None:
        shutil.copy2(restore, home / "warehouse" / "swpm.duckdb")
    for p in files:
        shutil.copy2(p, home / "landing" / p.name)
    return bench.step("nightly", {"home": str(home), "date": day.isoformat()}, label)


def history_cache(work: Path, per_day: int, seed: int, days: int, history_load: str) -> Path:
    """Where a run keeps its loaded history (raw tables and manifest, before any dbt build).
    Named by what the raw tables' schema comes from (the contracts and the lineage columns) too:
    a changed contract must not reuse an old history. Read as files: this process stays small.
    "bulk_days": the bulk history checkpointed day by day (bench/steps.py, step_bulk_history)."""
    schema_sources = sorted((PROJECT / "expectations" / "contracts").glob("*.yml")) + [
        PROJECT / "ingest" / "warehouse.py"
    ]
    schema = hashlib.sha256(b"".join(p.read_bytes() for p in schema_sources)).hexdigest()[:8]
    layout = f"{history_load}_days" if history_load == "bulk" else history_load
    return work / f"history_{per_day}_{seed}_{days}d_{layout}_{schema}.duckdb"


def compared_with(path: Path, per_day: int) -> dict:
    """The history night of an earlier run (a year), for the flat-in-history target."""
    other = json.loads(path.read_text())
    if other["scale"]["declarations_per_day"] != per_day or not other.get("complete"):
        raise SystemExit(f"--compare-with {path}: not a complete run at {per_day:,} declarations a day")
    return {
        "path": str(path),
        "scale": other["scale"]["name"],
        "started_at": other["started_at"],
        "history_night_seconds": other["nightly"]["history"]["seconds"],
        "history_night_peak_rss_mib": other["nightly"]["history"]["peak_rss_mib"],
    }


def targets(f: dict, scale: str) -> dict:
    def judged(value, limit: str, note: str | None = None) -> dict:
        """``value`` against ``TARGETS[limit]``: at least it for a ``_min``, at most for a ``_max``."""
        bound = TARGETS[limit]
        at_least = limit.endswith("_min")
        met = value >= bound if at_least else value <= bound
        return {"value": value, "target": f"{'>=' if at_least else '<='} {bound}", "met": met} | (
            {"note": note} if note else {}
        )

    out = {}
    if "ingest" in f:
        out["loader_vs_floor"] = judged(f["ingest"]["loader_vs_floor"], "loader_vs_floor_min")
        out["loader_vs_pandas"] = judged(f["ingest"]["loader_vs_pandas"], "loader_vs_pandas_min")
    out["fixed_cost_share"] = judged(f["fixed_vs_per_row"]["process_total"]["fixed_share"], "fixed_cost_share_max")
    year_note = None if scale == "year" else "the target is for a year of history"
    out["nightly_history_vs_empty"] = judged(
        f["nightly"]["history_vs_empty"], "nightly_history_vs_empty_max", year_note
    )
    out["nightly_history_peak_rss_gib"] = judged(
        round(f["nightly"]["history"]["peak_rss_mib"] / 1024, 2), "nightly_history_peak_rss_gib_max", year_note
    )
    out["rebuild_peak_rss_gib"] = judged(
        round(f["rebuild"]["peak_rss_mib"] / 1024, 2), "rebuild_peak_rss_gib_max", year_note
    )
    # No slower than loading the raw files it rebuilds from (the history load, process wall;
    # without the bulk history's day checkpoints, which only lay the tables out as nights do).
    load = f["history_load"]
    out["rebuild_vs_history_load"] = judged(
        round(f["rebuild"]["wall_seconds"] / (load["wall_seconds"] - load.get("day_checkpoint_seconds", 0)), 3),
        "rebuild_vs_history_load_max",
        "; ".join(note for note in (year_note, reused_history_note(f)) if note) or None,
    )
    if "compared_with" in f:
        other = f["compared_with"]
        out["nightly_3y_vs_year"] = judged(
            round(f["nightly"]["history"]["seconds"] / other["history_night_seconds"], 3),
            "nightly_3y_vs_year_max",
            None
            if (scale, other["scale"]) == ("3y", "year")
            else f"the target is 3y against a year, not {scale} against {other['scale']}",
        )
    return out


def reused_history_note(f: dict) -> str | None:
    """When the history load was measured by an earlier run (a kept history), when, and the
    machine probe then and at the rebuild: a ratio of two times taken hours apart moves with the
    machine's speed (--fresh-history measures both in one run)."""
    load = f["history_load"]
    if "reused_from" not in load:
        return None
    then = (load.get("machine_probe") or {}).get("seconds")
    now = (f["rebuild"].get("machine_probe") or {}).get("seconds")
    when = f" at {load['loaded_at']}" if load.get("loaded_at") else ""
    speed = f"machine probe {then} s then, {now} s at the rebuild" if then and now else "no machine probe then"
    return f"history load measured by an earlier run{when} ({speed}); --fresh-history measures both in one run"


def fixed_cost_split(f: dict) -> dict:
    """Where a night's fixed cost goes, in seconds of process wall: dbt's parse (full, and
    kept from the last run), Great Expectations' import and door set-up, Airflow's import and
    DAG parse (what every task instance pays before its work), the mart checks' part that does
    not grow with rows, and the night's fitted fixed part as a whole and as a share."""
    split = {}
    if fixed := f.get("fixed_costs"):  # left out with --skip fixed
        split["dbt_parse"] = fixed["dbt_parse"]["seconds"]
        split["dbt_parse_kept"] = fixed["dbt_parse_kept"]["seconds"]
        split["gx_import_and_setup"] = fixed["gx_setup"]["wall_seconds"]
        split["airflow_task_start"] = fixed["airflow_parse"]["wall_seconds"]
    per_row = f["fixed_vs_per_row"]
    split["mart_checks"] = per_row["check"]["fixed_seconds"]
    split["night_fixed"] = per_row["process_total"]["fixed_seconds"]
    split["night_fixed_share"] = per_row["process_total"]["fixed_share"]
    return {k: round(v, 3) for k, v in split.items()}


def table(f: dict) -> str:
    rows = []

    def add(what, seconds="", rate="", rss="", note=""):
        rows.append((what, seconds, rate, rss, note))

    def s(x):
        return f"{x:,.2f}" if isinstance(x, (int, float)) else str(x)

    sc = f["scale"]
    add(
        f"scale {sc['name']}: {sc['history_days']} day(s) x {sc['declarations_per_day']:,} decl. + 1 new day",
        note=f"{f['machine']['cores']} cores, {f['machine']['memory_gib']} GiB; load {f['loadavg_before']} -> "
        f"{f.get('loadavg_after', '?')}; {engine_note(f['machine'])}",
    )
    for k, v in f.get("machine_probe", {}).items():
        add(
            f"machine probe: {k}",
            s(v["seconds"]),
            "",
            "",
            f"DuckDB {s(v['duckdb_seconds'])} s ({v['duckdb_threads']} threads), Python {s(v['python_seconds'])} s: "
            "the same work every run",
        )
    for k, v in f.get("fixed_costs", {}).items():
        add(
            f"fixed: {k}",
            s(v.get("seconds", v["wall_seconds"])),
            "",
            s(v["peak_rss_mib"]),
            f"process wall {s(v['wall_seconds'])} s",
        )
    ing = f.get("ingest")
    if ing:
        for k in ("floor_duckdb_read_csv", "loader", "pandas_to_sql"):
            v = ing[k]
            add(
                f"ingest: {k} ({v['rows']:,} rows)",
                s(v["seconds"]),
                f"{v['rows_per_s']:,} rows/s, {v['mb_per_s_gzip']} MB/s gz, {v['mb_per_s_csv']} MB/s csv",
                s(v["peak_rss_mib"]),
            )
        add("ingest: loader / floor", note=f"{ing['loader_vs_floor']} (target >= {TARGETS['loader_vs_floor_min']})")
        add(
            "ingest: loader / pandas", note=f"{ing['loader_vs_pandas']} x (target >= {TARGETS['loader_vs_pandas_min']})"
        )
    for k, v in (f.get("nightly") or {}).items():
        if isinstance(v, dict):
            parts = ", ".join(f"{p} {x:.2f}" for p, x in v["parts"].items())
            add(
                f"nightly on {k} warehouse ({v['rows']:,} rows)",
                s(v["seconds"]),
                "",
                s(v["peak_rss_mib"]),
                f"wall {s(v['wall_seconds'])} s; {parts}",
            )
    if "history_vs_empty" in (f.get("nightly") or {}):
        add(
            "nightly: history / empty",
            note=f"{f['nightly']['history_vs_empty']} (target <= 1.3); "
            f"process wall {f['nightly']['history_vs_empty_wall']}",
        )
    for k, v in (f.get("fixed_vs_per_row") or {}).items():
        add(f"night {k}: fixed + per row", s(v["fixed_seconds"]), f"{v['microseconds_per_row']} us/row")
    if split := f.get("fixed_cost_split"):
        add("fixed-cost split", note=", ".join(f"{k} {s(v)}" for k, v in split.items()))
    if "history_load" in f:
        v = f["history_load"]
        add(
            f"history load ({v.get('path', 'loader')}, {v['rows']:,} rows)",
            s(v["seconds"]),
            f"{v['rows_per_s']:,} rows/s, {v['mb_per_s_gzip']} MB/s gz"
            + (
                f"; day checkpoints {v['day_checkpoint_seconds']:.2f} s besides"
                if "day_checkpoint_seconds" in v
                else ""
            ),
            s(v["peak_rss_mib"]),
        )
    if "rebuild" in f:
        v = f["rebuild"]
        parts = ", ".join(f"{p} {x:.2f}" for p, x in v["parts"].items())
        add(
            f"full rebuild over the history ({v['declarations']:,} decl.)",
            s(v["wall_seconds"]),
            "",
            s(v["peak_rss_mib"]),
            parts,
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(4)]
    head = ("step", "seconds", "throughput", "peak RSS MiB", "")
    lines = ["  ".join(str(c).ljust(widths[i]) if i < 4 else str(c) for i, c in enumerate(head))]
    for r in rows:
        lines.append("  ".join(str(c).ljust(widths[i]) if i < 4 else str(c) for i, c in enumerate(r)))
    for name, t in (f.get("targets") or {}).items():
        note = f" ({t['note']})" if t.get("note") else ""
        lines.append(f"target {name}: {t['value']} ({t['target']}) {'met' if t['met'] else 'MISSED'}{note}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", choices=list(SCALES), default="week")
    p.add_argument("--per-day", type=int, default=REAL_PER_DAY, help="declarations a day (real: 45,000)")
    p.add_argument(
        "--small-per-day",
        type=int,
        default=None,
        help="declarations of the small night used to split fixed from per-row cost (default per-day/20)",
    )
    p.add_argument("--repeats", type=int, default=3, help="runs of each short step (the median is reported)")
    p.add_argument(
        "--history-repeats",
        type=int,
        default=None,
        help="runs of the night on the full warehouse (default: --repeats, 2 for a year)",
    )
    p.add_argument("--seed", type=int, default=20190101)
    p.add_argument(
        "--skip",
        default="",
        help="comma-separated sections to leave out: fixed, ingest (e.g. for a year run when a week run measured them)",
    )
    p.add_argument("--work", type=Path, default=PROJECT / "bench" / "work", help="generated data and homes")
    p.add_argument("--out", type=Path, default=None, help="JSON output (default bench/results/<scale>.json)")
    p.add_argument(
        "--history-load",
        choices=["loader", "bulk"],
        default=None,
        help="how the history is written: the loader (default), or bulk: the loader's insert "
        "without its door checks (default for a year, to fit a working day)",
    )
    p.add_argument(
        "--fresh-history",
        action="store_true",
        help="load the history again even when a loaded copy is kept in the work folder",
    )
    p.add_argument(
        "--compare-with",
        type=Path,
        default=None,
        help="the JSON of a run at one year and the same --per-day: judges a 3y run's night against "
        "that year's (flat in history)",
    )
    args = p.parse_args(argv)
    out = args.out or PROJECT / "bench" / "results" / f"{args.scale}.json"
    small = args.small_per_day or max(args.per_day // 20, 10)
    long_history = args.scale in ("year", "3y")
    history_repeats = args.history_repeats or (2 if long_history else args.repeats)
    history_load = args.history_load or ("bulk" if long_history else "loader")
    f = run(
        args.scale,
        args.per_day,
        args.repeats,
        args.work.resolve(),
        out,
        args.seed,
        small,
        history_repeats,
        history_load=history_load,
        skip=frozenset(x for x in args.skip.split(",") if x),
        fresh_history=args.fresh_history,
        compare_with=args.compare_with,
    )
    print(table(f))
    print(f"figures written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
