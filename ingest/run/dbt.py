"""dbt, run in-process through dbt's programmatic runner, against the home's warehouse.

A process parses the dbt project once: later dbt commands in the same process (the report's
``docs generate`` after ``build``, or another home's build) reuse the parsed manifest, which
depends on the project's files and the dbt target only, never on which home's warehouse it runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest import crashpoints
from ingest.config import DBT_PROJECT_DIR, Home
from ingest.run.lock import home_lock
from ingest.warehouse import connect, writer_lock

# The intraday models (models/intraday/: trs_today) are built by the intraday run only
# (ingest/run/intraday.py), as of its hour; the nightly build leaves them alone.
INTRADAY_TAG = "intraday"


class DbtFailed(RuntimeError):
    """A dbt command failed; ``result`` holds its nodes (which failed, and dbt's message)."""

    def __init__(self, message: str, result: DbtResult | None = None):
        super().__init__(message)
        self.result = result


@dataclass
class DbtResult:
    command: str
    success: bool
    nodes: list[dict]

    @property
    def failures(self) -> list[dict]:
        # "no-op": exposures, which dbt build lists but has nothing to run for.
        return [n for n in self.nodes if n["status"] not in ("success", "pass", "skipped", "warn", "no-op")]


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """The dbt project's environment variables (read by env_var() in models and profiles) set for
    the block, and put back as they were after it."""
    previous = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def kpi_models(project_dir: Path) -> list[str]:
    """The KPI models: every model in the project's models/kpis/, by name."""
    return sorted(p.stem for p in (project_dir / "models" / "kpis").rglob("*.sql"))


def _prepare(home: Home) -> list[str]:
    home.ensure()
    # The dbt profile reads the warehouse path from the environment.
    os.environ["SWPM_WAREHOUSE"] = str(home.warehouse)
    # kpi_scorecard reads every KPI model through ref(); dbt records a model's parents while it
    # parses, before it knows which models exist, so the scorecard declares them from this list
    # (dbt_project/macros/bsc.sql, kpi_actuals). A new KPI model needs no edit anywhere else.
    os.environ["SWPM_KPI_MODELS"] = ",".join(kpi_models(DBT_PROJECT_DIR))
    dbt_dir = home.warehouse_dir / "dbt"
    return [
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(dbt_dir / "target"),
        "--log-path",
        str(dbt_dir / "logs"),
    ]


def _release_duckdb() -> None:
    """dbt-duckdb keeps its database open in a class attribute after a run; close it so this
    process (and others) can open the warehouse again, e.g. read-only for the mart checks."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            try:
                DuckDBConnectionManager._ENV.close()
            finally:
                DuckDBConnectionManager._ENV = None


# Parsed manifests of this process, by what a parse reads (see _parse_key).
_MANIFESTS: dict[str, object] = {}
# Flags that change what a parse produces: a command given one of them parses for itself.
_PARSE_FLAGS = ("--vars", "--no-partial-parse", "--target", "-t", "--profile")


def _parse_key() -> str:
    """What a parse of the project depends on: every file of the project (path, size, modification
    time) and the dbt target. Not the warehouse path: the manifest names no file."""
    digest = hashlib.sha256(str(DBT_PROJECT_DIR).encode())
    for path in sorted(DBT_PROJECT_DIR.rglob("*")):
        if path.is_file() and not {"target", "logs", "dbt_packages"} & set(path.relative_to(DBT_PROJECT_DIR).parts):
            stat = path.stat()
            digest.update(f"{path.relative_to(DBT_PROJECT_DIR)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    digest.update(os.environ.get("SWPM_DBT_TARGET", "").encode())
    return digest.hexdigest()


def _manifest(cli_paths: list[str]):
    """The project's parsed manifest, parsed on the first call in this process (dbt's
    programmatic runner takes a manifest for exactly this reuse)."""
    from dbt.cli.main import dbtRunner

    key = _parse_key()
    if key not in _MANIFESTS:
        res = dbtRunner().invoke(["parse", *cli_paths])
        if not res.success or res.result is None:
            return None  # the command itself parses, and reports the error
        _MANIFESTS.clear()
        _MANIFESTS[key] = res.result
    return _MANIFESTS[key]


def run_dbt(home: Home, command: str, *args: str, raise_on_failure: bool = True) -> DbtResult:
    """Run one dbt command (``build``, ``test``, ``docs generate``, ...) holding the home's
    writer lock and the warehouse's, since dbt writes the warehouse."""
    with home_lock(home, what=f"dbt {command}"):
        return _run_dbt(home, command, *args, raise_on_failure=raise_on_failure)


def _run_dbt(home: Home, command: str, *args: str, raise_on_failure: bool = True) -> DbtResult:
    from dbt.cli.main import dbtRunner

    with connect(home):  # create raw/meta schemas so sources exist even before the first load
        pass
    paths = _prepare(home)
    cli = command.split() + paths + list(args)
    if command == "build" and "--write-json" not in args:
        # dbt's JSON artifacts (manifest.json, run_results.json) cost about a quarter of a build
        # of a small night. Each node's result is in the returned DbtResult (the run log, the
        # build task's result); the report's `docs generate` writes the manifest for dbt docs.
        cli.append("--no-write-json")
    reuse = command != "parse" and not any(a.split("=")[0] in _PARSE_FLAGS for a in args)
    with writer_lock(home):
        try:
            manifest = _manifest(paths) if reuse else None
            res = dbtRunner(manifest=manifest, callbacks=crashpoints.dbt_callbacks()).invoke(cli)
        finally:
            _release_duckdb()
    nodes = []
    for r in getattr(res.result, "results", None) or []:
        nodes.append(
            {
                "name": r.node.name,
                "resource_type": str(r.node.resource_type),
                "status": str(r.status),
                "message": r.message,
                "seconds": round(r.execution_time or 0, 3),
            }
        )
    result = DbtResult(command, bool(res.success), nodes)
    if raise_on_failure and not result.success:
        detail = "; ".join(f"{n['name']}: {n['status']} {n['message'] or ''}".strip() for n in result.failures)
        raise DbtFailed(f"dbt {command} failed: {detail or res.exception}", result)
    return result


def build(home: Home, full_refresh: bool = False, unit_tests: bool = False) -> DbtResult:
    """dbt build (models, seeds, data tests). The tests of the big tables check the rows loaded
    since the last successful build (dbt_project/macros/incremental.sql): SWPM_TESTS_SINCE tells
    them when that was; the first build tests every row, and so does a full refresh (the macro
    ignores SWPM_TESTS_SINCE then).

    dbt's unit tests check the models' logic on fixed inputs, not the night's data, so the night
    leaves them out, as dbt advises for production; ``unit_tests=True`` (``swpm build
    --unit-tests``) runs them too, and the test suite runs them once (``unit_tests()``)."""
    with home_lock(home, what="dbt build"):
        return _build(home, full_refresh, unit_tests)


def _build(home: Home, full_refresh: bool, unit_tests: bool) -> DbtResult:
    args = ["--full-refresh"] if full_refresh else []
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    with connect(home) as con:
        since = con.execute("SELECT max(loaded_through) FROM meta.dbt_builds").fetchone()[0]
        # Files recorded from here on are tested by the next build too (overlap, never a gap).
        loaded_through = con.execute("SELECT max(recorded_at) FROM meta.file_manifest").fetchone()[0]
    with environment(SWPM_TESTS_SINCE=since.isoformat(sep=" ") if since else ""):
        result = run_dbt(home, "build", "--exclude", f"tag:{INTRADAY_TAG}", *args)
    if loaded_through is not None:
        with connect(home) as con:
            con.execute(
                "INSERT INTO meta.dbt_builds VALUES (now()::timestamp, $through, $full)",
                {"through": loaded_through, "full": full_refresh},
            )
    return result


def unit_tests(home: Home) -> DbtResult:
    """Every dbt unit test (the models' logic on the fixed inputs in their YAML). They need the
    models' parents to exist in the warehouse, so run them on a home that was built once."""
    return run_dbt(home, "test", "--select", "test_type:unit")
