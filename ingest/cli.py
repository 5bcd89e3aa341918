"""``swpm``: the nightly pipeline's steps without Airflow.

    swpm generate --start 2006-01-01 --days 30 --declarations-per-day 500 --seed 7
    swpm land path/to/export.csv.gz --as itsm_incidents_servicenow_20170101.csv.gz
    swpm load | build | check | publish
    swpm run --date 2018-12-31 [--through publish]
    swpm rebuild
    swpm today [--as-of 2018-12-31T12:00]
    swpm status
    swpm headline
    swpm report [--no-docs] [--lang ko]

Every command takes --home DIR (default: $SWPM_HOME, else swpm_home/ in the project) and
--lock-timeout SECONDS (how long a writer waits for another run on the home; $SWPM_LOCK_TIMEOUT).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.config import Home


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number: {text!r}")
    return value


def _file_progress(i: int, n: int, outcome) -> None:
    flag = {"loaded": "ok  ", "quarantined": "QUAR", "skipped": "skip"}.get(outcome.status, outcome.status)
    line = f"[{i}/{n}] {flag} {outcome.file_name}"
    if outcome.status == "loaded":
        line += f" ({outcome.rows_loaded} rows)"
    elif outcome.status == "quarantined":
        line += f": {outcome.message}"
    print(line, flush=True)


def cmd_generate(args, home: Home) -> int:
    from ingest.sample_world.clearance import sample_days
    from ingest.sample_world.registry import generate_all
    from ingest.sample_world.spec import SampleSpec

    def progress(i, n, day):
        if i == n or i % max(n // 20, 1) == 0:
            print(f"  generated {i}/{n} days (last {day})", flush=True)

    days = sample_days(args.start, args.days, args.days_per_month, args.month_step)
    spec = SampleSpec(home.ensure().landing, tuple(days), args.declarations_per_day, args.seed)
    for g in generate_all(spec, only=args.only, progress=progress):
        print(f"generate {g.source}: {g.files} new file(s), {g.rows} rows{' (' + g.detail + ')' if g.detail else ''}")
    print(f"generate: landing folder {home.landing}")
    return 0


def cmd_land(args, home: Home) -> int:
    """Drop a delivered file into landing/ the safe way: copy beside, then rename."""
    import shutil
    from pathlib import Path

    from ingest.config import PRIVATE_FILE
    from ingest.files import replacing

    source = Path(args.file)
    name = args.as_name or source.name
    if Path(name).name != name or name.startswith("."):
        raise ValueError(f"--as must be a plain file name, not {name!r}")
    target = home.ensure().landing / name
    if target.exists():
        print(f"land: {target} already there, left as it is")
        return 0
    with replacing(target, mode=PRIVATE_FILE) as tmp:  # clear identifiers: owner-only
        shutil.copyfile(source, tmp)
    print(f"land: {source} -> {target}")
    return 0


def cmd_load(args, home: Home) -> int:
    from ingest.run import pipeline

    batch = pipeline.new_batch_id(args.date)
    outcomes = pipeline.load(home, batch, until=args.date, progress=_file_progress)
    q = sum(o.status == "quarantined" for o in outcomes)
    print(f"load: {len(outcomes)} new file(s), {len(outcomes) - q} loaded, {q} quarantined (batch {batch})")
    return 0


def cmd_build(args, home: Home) -> int:
    from ingest.run import pipeline

    res = pipeline.build(home, full_refresh=args.full_refresh, unit_tests=args.unit_tests)
    print(f"build: {len(res.nodes)} dbt nodes, {len(res.failures)} failed")
    return 0


def cmd_check(args, home: Home) -> int:
    from ingest.run import pipeline

    for r in pipeline.check(home):
        print(f"check: {r.name}: {'passed' if r.success else 'FAILED'} on {r.rows} rows")
    return 0


def cmd_publish(args, home: Home) -> int:
    from ingest.run import pipeline

    info = pipeline.publish(home, pipeline.new_batch_id(trigger="publish"))
    print(f"publish: snapshot {info['snapshot_id']} -> {home.serving / 'marts.duckdb'}")
    return 0


def cmd_run(args, home: Home) -> int:
    from ingest.run import pipeline

    pipeline.run(home, args.date, trigger="cli", progress=_file_progress, through=args.through)
    return cmd_headline(args, home)


def cmd_rebuild(args, home: Home) -> int:
    from ingest.run.rebuild import rebuild

    report = rebuild(home)
    return 1 if report.missing or report.changed else 0


def _moment(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time (YYYY-MM-DDTHH:MM, Korea time): {text!r}") from None


def cmd_today(args, home: Home) -> int:
    """The intraday refresh without Airflow: the same steps as dags/swpm_intraday.py."""
    from zoneinfo import ZoneInfo

    from ingest.run import intraday
    from ingest.run.runlog import new_batch_id
    from ingest.run.schedule import LOCAL_TZ

    as_of = args.as_of or dt.datetime.now(ZoneInfo(LOCAL_TZ)).replace(tzinfo=None, microsecond=0)
    info = intraday.run(home, as_of, new_batch_id(as_of.date(), "today"), log=lambda line: print(f"load: {line}"))
    print(f"today: trs_today as of {info['as_of']} ({info['rows']} rows) -> {intraday.snapshot_path(home)}")
    return 0


def cmd_status(args, home: Home) -> int:
    from ingest.run import pipeline

    info = pipeline.status(home)
    lost = 1 if info.get("warehouse_problem") else 0  # a monitoring script sees it in the exit code
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return lost
    print(f"home: {info['home']}")
    if info.get("warehouse_problem"):
        print(f"  WAREHOUSE LOST: {info['warehouse_problem']}")
    if info.get("writer"):
        print(f"  writing now: {info['writer']}")
    for folder in info.get("exposed_folders", []):
        print(f"  EXPOSED {folder}: holds files as delivered (clear identifiers); chmod 700 it")
    for t in info.get("totals", []):
        print(
            f"  {t['source_kind']:<24} {t['status']:<12} files={t['files']:<5} landed={t['rows_landed'] or 0:<9} "
            f"loaded={t['rows_loaded'] or 0:<9} quarantined={t['rows_quarantined'] or 0:<7} last={t['last_recorded_at']}"
        )
    for q in info.get("quarantined", []):
        print(f"  QUARANTINED {q['file_name']} [{q['reason_code']}] {q['message']}")
    snap = info.get("snapshot")
    if snap:
        marts = ", ".join(f"{k}={v['rows']} rows" for k, v in snap["marts"].items())
        print(f"published: snapshot {snap['snapshot_id']} at {snap['published_at']} ({marts})")
    else:
        print("published: nothing yet")
    for r in info.get("runs", [])[:5]:
        print(f"  run {r['batch_id']}: {r['step']} {r['status']} {r['detail'] or ''} (updated {r['updated_at']})")
        if r.get("warnings"):
            print(f"    warned: {r['warnings']}")
    fresh = info.get("source_freshness", [])
    if fresh:
        counts = {st: sum(s["status"] == st for s in fresh) for st in dict.fromkeys(s["status"] for s in fresh)}
        print(f"sources (checked {fresh[0]['checked_at']}): " + ", ".join(f"{n} {st}" for st, n in counts.items()))
        for s in info.get("stale_sources", []):
            print(f"  STALE {s['description']}")
    _print_alerts(info.get("alerts"))
    return lost


def _print_alerts(alerts: dict | None) -> None:
    if alerts is None:
        return
    counts = ", ".join(f"{n} {s}" for s, n in sorted(alerts["by_severity"].items()))
    print(f"alerts: {alerts['open']} open" + (f" ({counts})" if counts else ""))
    for a in alerts["latest"]:
        print(f"  {a['severity'].upper():<8} {a['message']} (first seen {a['first_seen_at']:%Y-%m-%d %H:%M})")
    if alerts["open"] > len(alerts["latest"]):
        print(f"  ... {alerts['open'] - len(alerts['latest'])} more in the mart kpi_alerts")
    digest = alerts["last_digest"]
    if digest:
        line = f"  last digest {digest['attempted_at']:%Y-%m-%d %H:%M}: {digest['status']}, {digest['alerts']} alert(s)"
        detail = digest["recipients"] if digest["status"] == "sent" else digest["detail"]
        print(line + (f" ({detail})" if detail else ""))


def cmd_headline(args, home: Home) -> int:
    from ingest.serving.headline import headline

    rows = headline(home)
    if not rows:
        print("no published snapshot yet")
        return 0
    print("\nAir-cargo imports, release time (arrival to release), days")
    print(f"{'year':<6}{'declarations':>13}{'released':>10}{'mean':>8}{'median':>8}{'p90':>8}")
    for year, n, rel, mean, median, p90 in rows:
        mean, median, p90 = ("-" if v is None else v for v in (mean, median, p90))
        print(f"{year:<6}{n:>13}{rel:>10}{mean:>8}{median:>8}{p90:>8}")
    print(f"\nmarts: {home.snapshot} (read-only snapshot), {home.serving / 'parquet'}/<mart>.parquet")
    return 0


def cmd_report(args, home: Home) -> int:
    from ingest.serving import report

    if not args.no_docs:
        if home.warehouse.exists():
            print(f"report: dbt docs -> {report.publish_dbt_docs(home)}")
        else:
            print("report: no warehouse yet, dbt docs not generated")
    if args.lang:
        print(f"report: {report.build_report(home, args.lang)}")
    else:
        report.build_report(home)
        print(
            f"report: {report.page.report_dir(home) / 'index.html'} (English), {report.page.report_dir(home, 'ko')} (Korean)"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    from ingest.run.steps import STEP_NAMES

    parser = argparse.ArgumentParser(prog="swpm", description="Single Window performance warehouse")
    parser.add_argument("--home", help="home folder (default: $SWPM_HOME, else swpm_home/ in the project)")
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how long to wait for another run holding the home's writer lock (default $SWPM_LOCK_TIMEOUT, else 1800; 0: do not wait)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, func, help_):
        p = sub.add_parser(name, help=help_)
        p.add_argument("--home", default=argparse.SUPPRESS, help="home folder")
        p.add_argument(
            "--lock-timeout", type=float, default=argparse.SUPPRESS, metavar="SECONDS", help="writer lock wait"
        )
        p.set_defaults(func=func)
        return p

    g = add("generate", cmd_generate, "write the sample world's nightly drops into landing/")
    g.add_argument("--start", type=_date, required=True)
    g.add_argument("--days", type=_positive, required=True)
    g.add_argument("--declarations-per-day", type=_positive, default=500)
    g.add_argument("--seed", type=int, default=20060101)
    g.add_argument(
        "--days-per-month", type=_positive, default=None, help="only the first N days of each month (a sampled period)"
    )
    g.add_argument(
        "--month-step", type=_positive, default=1, help="only every Nth month from the start month (a sampled period)"
    )
    g.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="SOURCE",
        help="only this generator (repeatable; see ingest/sample_world.py)",
    )
    p = add("land", cmd_land, "copy a delivered file into landing/ (atomically, content unchanged)")
    p.add_argument("file")
    p.add_argument("--as", dest="as_name", default=None, help="file name in landing/ (default: the same)")
    p = add("load", cmd_load, "check and load new files from landing/")
    p.add_argument("--date", type=_date, default=None, help="only files whose data date is on or before this")
    p = add("build", cmd_build, "run dbt build (models and data tests)")
    p.add_argument("--full-refresh", action="store_true")
    p.add_argument("--unit-tests", action="store_true", help="also run dbt's unit tests (the night leaves them out)")
    add("check", cmd_check, "run the Great Expectations checks on the marts")
    add("publish", cmd_publish, "publish the marts as a read-only snapshot")
    p = add("run", cmd_run, "all steps of the nightly run for a logical date")
    p.add_argument("--date", type=_date, required=True)
    p.add_argument(
        "--through",
        choices=STEP_NAMES,
        default=STEP_NAMES[-1],
        help=f"stop after this step (default {STEP_NAMES[-1]}: every step)",
    )
    add("rebuild", cmd_rebuild, "rebuild a lost or damaged warehouse from the kept files and the manifest's journal")
    p = add("today", cmd_today, "the intraday refresh: new clearance files, then trs_today as of now (or --as-of)")
    p.add_argument("--as-of", type=_moment, default=None, help="the moment described, Korea time (default: now)")
    p = add("status", cmd_status, "what was loaded, quarantined and published")
    p.add_argument("--json", action="store_true")
    add("headline", cmd_headline, "release time per year for air-cargo imports, from the snapshot")
    p = add("report", cmd_report, "write the HTML performance report (and dbt docs) into serving/")
    p.add_argument("--no-docs", action="store_true", help="only the report, from the published snapshot")
    p.add_argument(
        "--lang",
        choices=("en", "ko"),  # ingest.serving.report.texts.LANGUAGES (not imported to parse the command line)
        help="only the page in this language: en (serving/report/index.html) or ko (serving/report/ko/index.html); "
        "default: both",
    )
    return parser


def _say_lock_waits() -> None:
    """A writer waiting for another run says so on stderr (ingest/run/lock.py logs it)."""
    logger = logging.getLogger("swpm.lock")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    try:
        from ingest.config import Home
    except RuntimeError as exc:  # ProjectNotFound: e.g. a wheel installed away from the project's files
        print(exc, file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    home = Home.resolve(getattr(args, "home", None))
    if getattr(args, "lock_timeout", None) is not None:
        os.environ["SWPM_LOCK_TIMEOUT"] = str(args.lock_timeout)
    _say_lock_waits()
    try:
        return args.func(args, home)
    except Exception as exc:  # one clear line for a person; the trace with SWPM_DEBUG=1
        if os.environ.get("SWPM_DEBUG"):
            raise
        print(f"swpm {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
