from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
# pytest-xdist already runs a worker per core: one dbt thread each (a dbt build of the small test
# worlds is per-node overhead, which a second thread per worker only contends for).
os.environ.setdefault("SWPM_DBT_THREADS", "1")
# The keyed-pseudonym secret for the whole session (a test value, never a real key); `make`
# exports an empty value when no local key was generated yet, hence `or`.
os.environ["SWPM_PSEUDONYM_KEY"] = os.environ.get("SWPM_PSEUDONYM_KEY") or "swpm-test-session-key-not-a-secret"

# A small sample world: two nights at the Single Window's launch, two after it matured.
SAMPLE_DAYS = [dt.date(2006, 1, 1), dt.date(2006, 1, 2), dt.date(2011, 6, 1), dt.date(2011, 6, 2)]
SAMPLE_PER_DAY = 400
SAMPLE_SEED = 7


def _write_sample(landing: Path) -> None:
    from ingest.sample_world.clearance import generate

    for day in SAMPLE_DAYS:
        generate(landing, day, 1, SAMPLE_PER_DAY, seed=SAMPLE_SEED)


# Markers by module (pyproject.toml lists them): `-m "not slow"` is the quick loop, without the
# modules that build warehouses or run whole pipelines.
MODULE_MARKS = {
    "test_bench_smoke": ("slow", "bench"),
    "test_bsc": ("slow",),
    "test_crash_recovery": ("slow", "reliability"),
    "test_disk_full": ("slow", "reliability"),
    "test_cs_inspection": ("slow",),
    "test_dag_integrity": ("airflow",),
    "test_end_to_end": ("slow", "airflow"),
    "test_faults": ("slow",),
    "test_freshness": ("slow",),
    "test_intraday": ("slow",),
    "test_itsm": ("slow",),
    "test_pipeline": ("slow",),
    "test_reliability": ("slow", "reliability"),
    "test_report": ("slow",),
    "test_report_i18n": ("slow",),
    "test_rerun": ("slow",),
    "test_scoped_tests": ("slow",),
    "test_serving": ("slow",),
    "test_trs_survival": ("slow",),
    "test_scheduler": ("slow", "airflow", "scheduler"),
    "test_scheduler_intraday": ("slow", "airflow", "scheduler"),
}
# Suites kept out of `make test`, each with its own make target that .ci/run runs after it: the
# benchmark's own smoke run (`make test-bench`), the real Airflow scheduler (`make test-airflow`),
# a real Superset server (`make test-bi`), whole homes through kills, overlapping runs, rebuilds
# and a full disk (`make test-reliability`), the same marts on Apache Spark (`make test-spark`).
# Their tests run only when the marker expression names the suite (`-m bi`), never in
# `make test`, a bare `pytest` or another `-m`.
SEPARATE_SUITES = ("bench", "bi", "reliability", "scheduler", "spark")


def _separate_suite(item, markexpr: str) -> str | None:
    named = markexpr.replace("not ", "!").replace("(", " ").replace(")", " ").split()
    return next((m for m in SEPARATE_SUITES if item.get_closest_marker(m) and m not in named), None)


def pytest_configure(config):
    """SIGTERM (a CI timeout, `timeout`, a killed make) stops the session as Ctrl-C does, so the
    session's finalizers still stop the servers the tests started (Airflow, Superset, SMTP)."""
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        for mark in MODULE_MARKS.get(item.module.__name__.rpartition(".")[2], ()):
            item.add_marker(mark)
    markexpr = config.getoption("markexpr", "") or ""
    deselected = [item for item in items if _separate_suite(item, markexpr)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]
    for item in items:
        # Under pytest-xdist (`--dist loadgroup`), a module whose tests share a module-scoped
        # fixture runs on one worker, so the fixture is built once; other tests spread singly.
        defs = getattr(item, "_fixtureinfo", None)
        if defs and any(d[-1].scope == "module" for d in defs.name2fixturedefs.values()):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__.rpartition(".")[2]))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    """Fail at once if xdist dropped the groups: each shared module fixture would then be built
    once per worker (pytest 9.2 with pytest-xdist 3.8 did so silently, xdist issue 1386)."""
    if not getattr(session.config.option, "loadgroup", False):  # set on xdist workers only
        return
    lost = [i.nodeid for i in session.items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid]
    if lost:
        raise pytest.UsageError(f"pytest-xdist ignored the xdist_group of {len(lost)} tests, e.g. {lost[0]}")


@pytest.fixture(scope="session")
def sample_landing(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("sample") / "landing"
    _write_sample(landing)
    return landing


@pytest.fixture
def home(tmp_path):
    from ingest.config import Home

    return Home.resolve(tmp_path / "home").ensure()


@pytest.fixture
def sample_home(home, sample_landing):
    for f in sample_landing.iterdir():
        shutil.copy2(f, home.landing / f.name)
    return home


@dataclass(frozen=True)
class PublishedWorld:
    home: object  # ingest.config.Home
    outcome_statuses: tuple[str, ...]
    published: dict  # what the run's publish step returned
    days: tuple[dt.date, ...] = tuple(SAMPLE_DAYS)
    seed: int = SAMPLE_SEED


@pytest.fixture(scope="session")
def published_world(tmp_path_factory, worker_id) -> PublishedWorld:
    """A sample world of every source kind, run once for the whole session through every step of
    the nightly run (load, build, freshness, check, publish, report). Shared by the report and
    Balanced Scorecard tests, across pytest-xdist workers: the first builds it under a file lock,
    the others read it. Read-only for its users: a test that changes a home copies it."""
    import json

    from filelock import FileLock

    from ingest.config import Home
    from ingest.run import pipeline
    from ingest.sample_world.registry import generate_all
    from ingest.sample_world.spec import SampleSpec

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker_id != "master" else base
    folder = shared / "published_world"
    record = folder / "run.json"
    with FileLock(str(shared / "published_world.lock")):
        home = Home.resolve(folder / "home")
        if not record.exists():
            home.ensure()
            generate_all(SampleSpec(home.landing, tuple(SAMPLE_DAYS), 200, SAMPLE_SEED))
            summary = pipeline.run(home, dt.date(2026, 1, 1), log=lambda *_: None)
            record.write_text(
                json.dumps(
                    {"outcomes": [o.status for o in summary.outcomes], "published": summary.published}, default=str
                )
            )
        run = json.loads(record.read_text())
    return PublishedWorld(home, tuple(run["outcomes"]), run["published"])


@pytest.fixture(scope="session")
def built_sample(tmp_path_factory, sample_landing):
    """The sample world loaded and built once per worker: (home, the build's result). Tests that
    change a home take a copy (``built_home``)."""
    from ingest.config import Home
    from ingest.run import pipeline

    home = Home.resolve(tmp_path_factory.mktemp("built") / "home").ensure()
    for f in sample_landing.iterdir():
        shutil.copy2(f, home.landing / f.name)
    pipeline.load(home, "b1")
    return home, pipeline.build(home)


@pytest.fixture
def built_home(built_sample, tmp_path):
    """A copy of the loaded and built sample home, for a test to change."""
    from ingest.config import Home

    shutil.copytree(built_sample[0].root, tmp_path / "built", symlinks=True)
    return Home.resolve(tmp_path / "built")


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory) -> dict:
    """Environment for the real Airflow CLI: its own home with a migrated SQLite database."""
    af_home = tmp_path_factory.mktemp("airflow_home")
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(af_home),
        AIRFLOW__CORE__DAGS_FOLDER=str(PROJECT / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
    )
    res = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return env


@pytest.fixture(scope="session")
def scheduler(tmp_path_factory):
    """The real Airflow scheduler (tests/scheduler_harness.py), started once for the session in a
    temporary home with an empty landing folder, stopped after it (its process group killed)."""
    from tests import scheduler_harness

    deployment = scheduler_harness.start(tmp_path_factory.mktemp("scheduler"))
    try:
        yield deployment
    finally:
        deployment.airflow.stop()
