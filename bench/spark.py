"""The same small dbt build on DuckDB and on Spark (docs/spark.md#time). Not a test: it prints
the seconds of each and where Spark is expected to overtake DuckDB.

``make bench-spark`` (``python -m bench.spark [--per-day N] [--work DIR]``, in .venv-spark).
One home: the sample world of every source kind over the four sample days, loaded once; then
the nightly dbt build on DuckDB (full refresh), and on Spark (session method, local cores): the
JVM's start, the export of the raw layer to Parquet, the build.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

# A real year on DuckDB (docs/performance.md, "A year of history"): a full rebuild of 16.4 M
# declarations and 113 M events took 263 s on this 2-core machine, within 8 GiB.
DUCKDB_YEAR_DECLARATIONS = 16_400_000
DUCKDB_YEAR_REBUILD_SECONDS = 263.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-day", type=int, default=60, help="declarations a sample day (default 60)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the home (default: a temporary one)")
    args = parser.parse_args(argv)
    os.environ.setdefault("SWPM_PSEUDONYM_KEY", "swpm-bench-key-not-a-secret")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")

    from ingest import spark
    from ingest.config import Home
    from ingest.run import pipeline
    from ingest.sample_world.registry import generate_all
    from ingest.sample_world.spec import SampleSpec
    from tests.conftest import SAMPLE_DAYS, SAMPLE_SEED

    work = args.work or Path(tempfile.mkdtemp(prefix="swpm-bench-spark-"))
    shutil.rmtree(work / "home", ignore_errors=True)
    home = Home.resolve(work / "home").ensure()
    generate_all(SampleSpec(home.landing, tuple(SAMPLE_DAYS), args.per_day, SAMPLE_SEED))
    pipeline.load(home, "bench")
    declarations = _count(home, "raw.clearance_declarations")
    events = _count(home, "raw.clearance_events")

    started = time.perf_counter()
    pipeline.build(home)
    duck_first = time.perf_counter() - started
    started = time.perf_counter()
    pipeline.build(home, full_refresh=True)
    duckdb_seconds = time.perf_counter() - started

    started = time.perf_counter()
    spark.export_sources(home)
    export_seconds = time.perf_counter() - started
    started = time.perf_counter()
    from pyspark.sql import SparkSession

    SparkSession.builder.master(os.environ.get("SWPM_SPARK_MASTER", "local[2]")).config(
        "spark.ui.enabled", "false"
    ).config("spark.sql.catalogImplementation", "in-memory").config(
        "spark.sql.warehouse.dir", str(spark.warehouse_dir(home))
    ).config("spark.sql.session.timeZone", "UTC").getOrCreate()
    jvm_seconds = time.perf_counter() - started
    started = time.perf_counter()
    result = spark.build(home, export=False)
    spark_seconds = time.perf_counter() - started
    nodes = len(result.nodes)
    node_seconds = sum(n["seconds"] for n in result.nodes)

    print(f"sample: {declarations:,} declarations, {events:,} events, {nodes} dbt nodes")
    print(f"DuckDB  dbt build (full refresh): {duckdb_seconds:7.1f} s   (first build {duck_first:.1f} s)")
    print(f"Spark   JVM and session start:    {jvm_seconds:7.1f} s")
    print(f"Spark   raw layer to Parquet:     {export_seconds:7.1f} s")
    print(
        f"Spark   dbt build:                {spark_seconds:7.1f} s   ({node_seconds:.1f} s in nodes, "
        f"{node_seconds / max(nodes, 1):.2f} s a node)"
    )
    print(
        f"Spark / DuckDB: {spark_seconds / duckdb_seconds:.1f} x on this sample ({'success' if result.success else 'FAILED'})"
    )
    print(
        "Where Spark overtakes DuckDB (an estimate, docs/spark.md#time): DuckDB rebuilt a real year "
        f"({DUCKDB_YEAR_DECLARATIONS / 1e6:.1f} M declarations) in {DUCKDB_YEAR_REBUILD_SECONDS:.0f} s on 2 cores and "
        "scales with the data on one machine; Spark's fixed cost here is about "
        f"{node_seconds / max(nodes, 1):.1f} s a node ({spark_seconds:.0f} s a build) whatever the size, and "
        "its work spreads over a cluster's cores. On one machine it never overtakes DuckDB; on a cluster of "
        "N machines like this one it overtakes once DuckDB's rebuild exceeds Spark's fixed cost plus the "
        "rebuild divided by N: at N = 8, from about 1.5 years of one country; UNI-PASS's 430 M declarations a "
        "year (26 x a KCS year, about 2 hours on DuckDB if one machine could hold it) are far beyond that."
    )
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


def _count(home, table: str) -> int:
    from ingest.warehouse import connect

    with connect(home) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


if __name__ == "__main__":
    main()
