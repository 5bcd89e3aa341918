"""The same dbt project on Apache Spark (docs/spark.md).

The loader, its door checks and the quarantine stay on DuckDB: Spark reads the raw layer from
what they accepted. ``export_sources`` writes every table of the warehouse's raw and meta
schemas (the dbt sources, lineage columns included) as Parquet beside the warehouse; the
spark target registers each as a table over that folder before it builds
(``dbt run-operation register_spark_sources``, dbt_project/macros/engine.sql). ``build`` runs the nightly dbt build
on the spark target (dbt-spark, session method: in this process, one JVM for all commands).
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path

from ingest.config import Home
from ingest.warehouse import connect

SOURCE_SCHEMAS = ("raw", "meta")


def sources_dir(home: Home) -> Path:
    """Where the raw layer is exported for Spark: one folder of Parquet per table."""
    return home.warehouse_dir / "spark_sources"


def warehouse_dir(home: Home) -> Path:
    """The Spark warehouse of the home (spark.sql.warehouse.dir): the models' tables."""
    return home.warehouse_dir / "spark"


def export_sources(home: Home) -> dict[str, int]:
    """Write each raw and meta table as <sources_dir>/<schema>/<table>/data.parquet (replacing
    an earlier export whole); returns the rows written per table."""
    target = sources_dir(home)
    staging = target.with_name(target.name + ".part")
    shutil.rmtree(staging, ignore_errors=True)
    rows: dict[str, int] = {}
    with connect(home) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema IN ('raw', 'meta') AND table_type = 'BASE TABLE' ORDER BY 1, 2"
        ).fetchall()
        for schema, table in tables:
            folder = staging / schema / table
            folder.mkdir(parents=True)
            path = str(folder / "data.parquet").replace("'", "''")
            con.execute(f'COPY "{schema}"."{table}" TO \'{path}\' (FORMAT parquet)')
            rows[f"{schema}.{table}"] = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return rows


@contextmanager
def spark_target(home: Home):
    """The environment of a dbt command on the spark target of dbt_project/profiles.yml."""
    settings = {
        "SWPM_DBT_TARGET": "spark",
        "SWPM_SPARK_SOURCES": str(sources_dir(home)),
        "SWPM_SPARK_WAREHOUSE": str(warehouse_dir(home)),
    }
    from ingest.run.dbt import environment

    with environment(**settings):
        yield


def build(home: Home, export: bool = True):
    """The nightly dbt build on Spark from the home's loaded raw layer (exported first)."""
    from ingest.run import dbt

    if export:
        export_sources(home)
    if not _session_active():
        # The catalog lives in the session (in-memory): a new one finds the folders of the
        # last process's tables and would refuse to create them again. Every model is rebuilt
        # on Spark anyway (macros/engine.sql, incremental_materialization).
        shutil.rmtree(warehouse_dir(home), ignore_errors=True)
    with spark_target(home):
        # The exported raw layer as the dbt sources (macros/engine.sql); a command of its own,
        # so that DuckDB's build has no hook.
        _register_sources(home)
        return dbt.run_dbt(
            home, "build", "--exclude", f"tag:{dbt.INTRADAY_TAG}", "--exclude-resource-type", "unit_test"
        )


def _register_sources(home: Home) -> None:
    """``dbt run-operation register_spark_sources`` on the spark target (run_dbt reads node
    results, which an operation has none of)."""
    from dbt.cli.main import dbtRunner

    from ingest.run import dbt

    paths = dbt._prepare(home)
    res = dbtRunner(manifest=dbt._manifest(paths)).invoke(["run-operation", "register_spark_sources", *paths])
    if not res.success:
        raise dbt.DbtFailed(f"dbt run-operation register_spark_sources failed: {res.exception}")


def _session_active() -> bool:
    from pyspark import SparkContext

    return SparkContext._active_spark_context is not None


def session():
    """The Spark session dbt-spark's session method built in this process (after ``build``)."""
    from pyspark.sql import SparkSession

    if not _session_active():
        raise RuntimeError("no Spark session in this process: run a build on the spark target first")
    return SparkSession.builder.getOrCreate()  # the running one (dbt-spark's threads share it)


def publish(home: Home, batch_id: str, marts=None) -> dict:
    """The publish step from a Spark build in this process: the marts as Spark holds them (tables
    and views alike, through Arrow) become the warehouse's marts tables, in one transaction,
    then the usual publish writes the snapshot: the same layout and digests as from a DuckDB
    build of the same data (tests/test_spark.py)."""
    from ingest.config import PUBLISHED_MARTS
    from ingest.run import publish as publisher
    from ingest.run.lock import home_lock

    marts = tuple(marts or PUBLISHED_MARTS)
    spark_session = session()
    tables = {mart: spark_session.table(f"marts.{mart}").toArrow() for mart in marts}
    with home_lock(home, what="spark marts"), connect(home) as con:  # connect holds the writer lock
        con.execute("BEGIN")
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        kinds = dict(
            con.execute(
                "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'marts'"
            ).fetchall()
        )
        for mart, table in tables.items():
            con.register("spark_mart", table)
            if kinds.get(mart) == "VIEW":  # a view mart on DuckDB (e.g. kpi_scorecard)
                con.execute(f"DROP VIEW marts.{mart}")
            con.execute(f"CREATE OR REPLACE TABLE marts.{mart} AS SELECT * FROM spark_mart")
            con.unregister("spark_mart")
        con.execute("COMMIT")
    return publisher.publish(home, batch_id, marts)
