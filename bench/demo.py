"""The demo's time, split by step: ``make bench-demo`` (``python -m bench.demo``).

Runs ``make demo`` as a user would, into a fresh home (``bench/work/demo/home``; the Airflow home
and the environment are the ones ``make setup`` installed, as for a user's first ``make demo``),
stamps every line it prints, and reads the DAG run's task instances from Airflow's metadata
database. Prints the wall time of each part of ``make demo`` (world, the DAG and each of its
tasks, the summaries) and writes the figures to ``bench/results/demo.json`` with the machine and
its load average before and after (other work on the machine slows every figure).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ingest.files import write_atomic

PROJECT = Path(__file__).resolve().parent.parent
# make demo's own progress lines (Makefile), in order: the part each one starts.
MARKERS = [
    (">> generating the sample world", "sample world: generate"),
    (">> landing the KCS extract", "real exports: land"),
    (">> running the Airflow DAG", "Airflow DAG (airflow dags test)"),
    ("Airflow DAG run:", "summaries: status, headline, C/S"),
]


def run_make(home: Path, log, make_args=()) -> tuple[float, list[tuple[float, str]]]:
    """``make demo`` into ``home``: its wall time and every output line with its time."""
    env = dict(os.environ, SWPM_HOME=str(home))
    started = time.monotonic()
    lines = []
    with subprocess.Popen(
        ["make", "--no-print-directory", *make_args, "demo"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        for line in proc.stdout:
            lines.append((time.monotonic() - started, line.rstrip("\n")))
            log(line.rstrip("\n"))
        code = proc.wait()
    if code != 0:
        raise SystemExit(f"make demo failed ({code})")
    return time.monotonic() - started, lines


def parts(total: float, lines: list[tuple[float, str]]) -> list[dict]:
    """Wall time of each part of ``make demo``, from the times its progress lines appeared."""
    starts = [(0.0, "set-up check (environment, Airflow home, key)")]
    for marker, name in MARKERS:
        at = next((t for t, text in lines if text.startswith(marker)), None)
        if at is not None:
            starts.append((at, name))
    ends = [t for t, _ in starts[1:]] + [total]
    return [{"part": name, "seconds": round(end - at, 1)} for (at, name), end in zip(starts, ends)]


def task_times(airflow_home: Path) -> dict:
    """The newest swpm_nightly run's task instances (Airflow's metadata database): seconds by
    task (a mapped task's instances summed, with their count) and the run's own span. Newest by
    id: `airflow dags test` dates a run's start at its logical date, so start times do not order
    runs (a night the scheduler ran in the same Airflow home would look newer)."""
    con = sqlite3.connect(f"file:{airflow_home / 'airflow.db'}?mode=ro", uri=True)
    try:
        run_id, start, end = con.execute(
            "SELECT run_id, start_date, end_date FROM dag_run WHERE dag_id = 'swpm_nightly' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        rows = con.execute(
            "SELECT task_id, map_index, rendered_map_index, state, start_date, end_date FROM task_instance "
            "WHERE dag_id = 'swpm_nightly' AND run_id = ? ORDER BY start_date",
            (run_id,),
        ).fetchall()
    finally:
        con.close()
    tasks: dict[str, dict] = {}
    for task_id, _map_index, label, state, started, ended in rows:
        duration = (
            (dt.datetime.fromisoformat(ended) - dt.datetime.fromisoformat(started)).total_seconds() if ended else 0
        )
        entry = tasks.setdefault(task_id, {"instances": 0, "seconds": 0.0, "states": set(), "labels": []})
        entry["instances"] += 1
        entry["seconds"] += duration
        entry["states"].add(state)
        if label:
            entry["labels"].append(f"{label}: {duration:.1f} s")
    for entry in tasks.values():
        entry["seconds"] = round(entry["seconds"], 1)
        entry["states"] = sorted(s or "none" for s in entry["states"])
    span = (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds() if end else None
    return {"run_id": run_id, "run_seconds": round(span, 1) if span else None, "tasks": tasks}


def machine() -> dict:
    import psutil

    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="make demo's time, split by step")
    parser.add_argument("--work", type=Path, default=PROJECT / "bench" / "work" / "demo")
    parser.add_argument("--out", type=Path, default=PROJECT / "bench" / "results" / "demo.json")
    parser.add_argument("--quiet", action="store_true", help="do not echo make demo's output")
    parser.add_argument(
        "--make-arg", action="append", default=[], help="passed to make (e.g. VENV=... for an environment elsewhere)"
    )
    args = parser.parse_args(argv)

    home = args.work / "home"
    shutil.rmtree(home, ignore_errors=True)
    airflow_home = Path(os.environ.get("AIRFLOW_HOME", PROJECT / ".airflow"))
    load_before = os.getloadavg()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total, lines = run_make(home, (lambda _: None) if args.quiet else print, args.make_arg)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_after = os.getloadavg()
    # CPU seconds of everything make demo ran: what the demo costs whatever else the machine does.
    cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    figures = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "make_demo_seconds": round(total, 1),
        "make_demo_cpu_seconds": round(cpu, 1),
        "parts": parts(total, lines),
        "dag": task_times(airflow_home),
        "files_landed": sum(1 for p in (home / "landing").iterdir() if p.is_file()),
    }
    dag_part = next((p["seconds"] for p in figures["parts"] if p["part"].startswith("Airflow DAG")), None)
    tasks_total = sum(t["seconds"] for t in figures["dag"]["tasks"].values())
    if dag_part is not None:
        figures["airflow_overhead_seconds"] = round(dag_part - tasks_total, 1)

    print(f"\nmake demo: {total:.1f} s wall, {cpu:.1f} s of CPU, on {figures['machine']['cores']} cores "
          f"(load average before {load_before[0]:.2f}, after {load_after[0]:.2f}); {figures['files_landed']} files")  # fmt: skip
    for part in figures["parts"]:
        print(f"  {part['part']:<48} {part['seconds']:>7.1f} s")
        if part["part"].startswith("Airflow DAG"):
            for task_id, t in figures["dag"]["tasks"].items():
                count = f" x{t['instances']}" if t["instances"] > 1 else ""
                print(f"    {task_id + count:<46} {t['seconds']:>7.1f} s  {','.join(t['states'])}")
                for label in t["labels"]:
                    print(f"      {label}")
            if "airflow_overhead_seconds" in figures:
                print(f"    {'(Airflow: start, parse, scheduling)':<46} {figures['airflow_overhead_seconds']:>7.1f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out, json.dumps(figures, indent=2) + "\n")
    print(f"figures: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
