"""Flat in history, measured side by side: the night at one year of history and the night at three
years, alternated in one run (year, 3y, year, 3y, ...), each on its rebuilt history restored before
every night. ``python -m bench.flat --per-day 4500 --nights 5 --work bench/work``

The two runs of ``bench.run`` (``--scale year``, then ``--scale 3y --compare-with``) are minutes
apart, and this machine's speed drifts by more than the target's margin in minutes: the same code
gave 1.03 x and 1.13 x in two such pairs of one hour (docs/performance.md). Alternating puts the
drift on both sides. The histories are the ones those runs loaded and kept in the work folder
(bench/run.py, history_cache), so run them first, with the same --per-day and --history-load.
Writes the figures as JSON (default bench/results/flat.json) and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
from pathlib import Path

from bench.run import PROJECT, SCALES, START, TARGETS, Bench, day_files, fresh_home, history_cache, night_on

SIDES = ("year", "3y")


def run(
    work: Path,
    out: Path,
    per_day: int,
    seed: int,
    nights: int,
    history_load: str,
    log=print,
    history_days: dict[str, int] | None = None,
    in_process: bool = False,
) -> dict:
    """``history_days``: the days of history of each side (the scales' own by default; the smoke
    test's are short). ``in_process``: every step in this process (the smoke test)."""
    bench = Bench(work, out, log, in_process)
    f = bench.figures
    f["flat"] = {"per_day": per_day, "seed": seed, "nights": nights, "history_load": history_load}
    f["started_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    f["machine"] = bench.step("machine")
    f["machine_probe"] = {"start": bench.probe()}
    f["loadavg_before"] = [round(x, 2) for x in os.getloadavg()]
    source = work / f"source_{per_day}_{seed}"
    runs = work / "run"
    homes = {}
    for side in SIDES:
        days = (history_days or SCALES)[side]
        new_day = START + dt.timedelta(days=days)
        cache = history_cache(work, per_day, seed, days, history_load)
        if not cache.exists():
            raise SystemExit(
                f"no loaded history {cache}: run `python -m bench.run --scale {side} --per-day {per_day} "
                f"--history-load {history_load} --work {work}` first"
            )
        bench.step("generate", {"days": [(str(source), [new_day.isoformat()], per_day)], "seed": seed})
        log(f"{side}: the history of {days} days rebuilt ...")
        home = fresh_home(runs / f"flat_{side}", [])
        warehouse = home / "warehouse" / "swpm.duckdb"
        warehouse.parent.mkdir(parents=True)
        shutil.copy2(cache, warehouse)
        last_day = (new_day - dt.timedelta(days=1)).isoformat()
        rebuild = bench.step(
            "nightly", {"home": str(home), "date": last_day, "full_refresh": True}, f"flat_{side}_rebuild"
        )
        rebuilt = runs / f"flat_{side}_rebuilt.duckdb"
        shutil.copy2(warehouse, rebuilt)
        homes[side] = (home, rebuilt, new_day)
        f[side] = {
            "history_days": days,
            "new_day": new_day.isoformat(),
            "rebuild_wall_seconds": rebuild["wall_seconds"],
        }
    bench.save()

    measured: dict[str, list[dict]] = {side: [] for side in SIDES}
    for i in range(nights):
        for side in SIDES:
            home, rebuilt, new_day = homes[side]
            night = night_on(bench, home, day_files(source, new_day), new_day, f"flat_{side}_night", restore=rebuilt)
            measured[side].append(night)
            log(
                f"night {i + 1}/{nights} at {side}: {night['seconds']:.2f} s ({night['wall_seconds']:.2f} s process wall)"
            )
    for side in SIDES:
        nights_ = Bench.summary(measured[side])
        f[side] |= {
            "seconds": nights_["all_seconds"],
            "median_seconds": round(nights_["seconds"], 3),
            "median_parts": {k: round(v, 3) for k, v in nights_["parts"].items()},
            "peak_rss_mib": nights_["peak_rss_mib"],
        }
    pairs = [round(b["seconds"] / a["seconds"], 3) for a, b in zip(measured["year"], measured["3y"], strict=True)]
    ratio = round(f["3y"]["median_seconds"] / f["year"]["median_seconds"], 3)
    bound = TARGETS["nightly_3y_vs_year_max"]
    f["ratio_of_medians"] = ratio
    f["ratio_each_pair"] = pairs
    f["target"] = {"value": ratio, "target": f"<= {bound}", "met": ratio <= bound}
    for _, rebuilt, _ in homes.values():
        rebuilt.unlink()
    f["machine_probe"]["end"] = bench.probe()
    f["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    f["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    bench.save(final=True)
    return f


def table(f: dict) -> str:
    lines = [
        f"flat in history, {f['flat']['per_day']:,} declarations a day, {f['flat']['nights']} nights each, alternated; "
        f"machine probe {f['machine_probe']['start']['seconds']} s at the start, {f['machine_probe']['end']['seconds']} s at the end"
    ]
    for side in SIDES:
        v = f[side]
        parts = ", ".join(f"{k} {x:.2f}" for k, x in v["median_parts"].items())
        lines.append(
            f"night at {side} ({v['history_days']} days): median {v['median_seconds']:.2f} s of {v['seconds']}; {parts}"
        )
    t = f["target"]
    lines.append(f"each pair 3y / year: {f['ratio_each_pair']}")
    lines.append(f"target nightly_3y_vs_year: {t['value']} ({t['target']}) {'met' if t['met'] else 'MISSED'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--per-day", type=int, default=4500, help="declarations a day (a tenth of the real 45,000)")
    p.add_argument("--seed", type=int, default=20190101)
    p.add_argument("--nights", type=int, default=5, help="nights on each side, alternated")
    p.add_argument("--history-load", choices=["loader", "bulk"], default="bulk")
    p.add_argument("--work", type=Path, default=PROJECT / "bench" / "work", help="where bench.run kept the histories")
    p.add_argument("--out", type=Path, default=PROJECT / "bench" / "results" / "flat.json")
    args = p.parse_args(argv)
    if args.nights < 1:
        p.error("--nights must be at least 1")
    f = run(args.work.resolve(), args.out, args.per_day, args.seed, args.nights, args.history_load)
    print(table(f))
    print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
