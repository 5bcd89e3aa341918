"""The package runs the repository's dbt project and contracts. Installed as a plain wheel, away
from a checkout, it must fail at once with a clear message, not publish nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.conftest import PROJECT


def _installed_copy(tmp_path):
    """The package's files alone, as a wheel installs them into site-packages."""
    site = tmp_path / "site-packages"
    shutil.copytree(PROJECT / "ingest", site / "ingest", ignore=shutil.ignore_patterns("__pycache__"))
    return site


def _swpm(site, *args, **env):
    environ = {k: v for k, v in os.environ.items() if k != "SWPM_PROJECT_DIR"}
    environ.update(PYTHONPATH=str(site), **env)
    return subprocess.run(
        [sys.executable, "-m", "ingest.cli", *args], env=environ, capture_output=True, text=True, timeout=120, cwd=site
    )


def test_a_wheel_without_the_project_fails_at_once_and_says_why(tmp_path):
    site = _installed_copy(tmp_path)
    res = _swpm(site, "--home", str(tmp_path / "home"), "status")
    assert res.returncode == 2, res.stdout + res.stderr
    assert "dbt_project/dbt_project.yml" in res.stderr and "SWPM_PROJECT_DIR" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "home").exists()  # nothing was created or published


def test_a_wheel_pointed_at_the_project_works(tmp_path):
    site = _installed_copy(tmp_path)
    res = _swpm(site, "--home", str(tmp_path / "home"), "status", SWPM_PROJECT_DIR=str(PROJECT))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "published: nothing yet" in res.stdout


def test_every_mart_model_is_published():
    from ingest.config import MARTS_MODELS_DIR, PUBLISHED_MARTS

    assert PUBLISHED_MARTS and set(PUBLISHED_MARTS) == {p.stem for p in MARTS_MODELS_DIR.rglob("*.sql")}
