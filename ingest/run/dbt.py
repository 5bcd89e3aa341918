"""dbt, run in-process through dbt's programmatic runner, against the home's warehouse."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ingest import crashpoints
from ingest.config import DBT_PROJECT_DIR, Home
from ingest.warehouse import connect, writer_lock


class DbtFailed(RuntimeError):
    pass


@dataclass
class DbtResult:
    command: str
    success: bool
    nodes: list[dict]

    @property
    def failures(self) -> list[dict]:
        # "no-op": exposures, which dbt build lists but has nothing to run for.
        return [n for n in self.nodes if n["status"] not in ("success", "pass", "skipped", "warn", "no-op")]


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


def run_dbt(home: Home, command: str, *args: str, raise_on_failure: bool = True) -> DbtResult:
    """Run one dbt command (``build``, ``test``, ``docs generate``, ...) holding the writer
    lock, since dbt writes the warehouse."""
    from dbt.cli.main import dbtRunner

    with connect(home):  # create raw/meta schemas so sources exist even before the first load
        pass
    cli = command.split() + _prepare(home) + list(args)
    with writer_lock(home):
        try:
            res = dbtRunner(callbacks=crashpoints.dbt_callbacks()).invoke(cli)
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
        raise DbtFailed(f"dbt {command} failed: {detail or res.exception}")
    return result


def build(home: Home, full_refresh: bool = False) -> DbtResult:
    """dbt build (models, seeds, tests). The tests of the big tables check the rows loaded since
    the last successful build (dbt_project/macros/incremental.sql): SWPM_TESTS_SINCE tells them
    when that was; the first build tests every row, and so does a full refresh (the macro
    ignores SWPM_TESTS_SINCE then)."""
    args = ["--full-refresh"] if full_refresh else []
    with connect(home) as con:
        since = con.execute("SELECT max(loaded_through) FROM meta.dbt_builds").fetchone()[0]
        # Files recorded from here on are tested by the next build too (overlap, never a gap).
        loaded_through = con.execute("SELECT max(recorded_at) FROM meta.file_manifest").fetchone()[0]
    previous = os.environ.get("SWPM_TESTS_SINCE")
    os.environ["SWPM_TESTS_SINCE"] = since.isoformat(sep=" ") if since else ""
    try:
        result = run_dbt(home, "build", *args)
    finally:
        if previous is None:
            os.environ.pop("SWPM_TESTS_SINCE", None)
        else:
            os.environ["SWPM_TESTS_SINCE"] = previous
    if loaded_through is not None:
        with connect(home) as con:
            con.execute(
                "INSERT INTO meta.dbt_builds VALUES (now()::timestamp, $through, $full)",
                {"through": loaded_through, "full": full_refresh},
            )
    return result
