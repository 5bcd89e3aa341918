from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
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
    "test_bench_smoke": ("slow",),
    "test_bsc": ("slow",),
    "test_crash_recovery": ("slow",),
    "test_cs_inspection": ("slow",),
    "test_dag_integrity": ("airflow",),
    "test_end_to_end": ("slow", "airflow"),
    "test_faults": ("slow",),
    "test_freshness": ("slow",),
    "test_itsm": ("slow",),
    "test_pipeline": ("slow",),
    "test_report": ("slow",),
    "test_rerun": ("slow",),
    "test_scoped_tests": ("slow",),
    "test_serving": ("slow",),
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for mark in MODULE_MARKS.get(item.module.__name__.rpartition(".")[2], ()):
            item.add_marker(mark)


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
