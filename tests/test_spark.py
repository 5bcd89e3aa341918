"""The same dbt project on Apache Spark gives the same marts as on DuckDB (docs/spark.md).

One small sample world of every source kind is loaded once (the loader, door checks and
quarantine on DuckDB), built by dbt on DuckDB, then exported as Parquet and built by dbt on
Spark (dbt-spark, session method: one JVM for the module). Every published mart is compared
column by column, cell by cell: exact statistics equal to the last digit. Marker `spark`:
`make test-spark` runs it, `make test` leaves it out.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math

import pytest

from ingest.config import PUBLISHED_MARTS, Home
from tests.conftest import SAMPLE_DAYS, SAMPLE_SEED

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# Declarations a day of the sample: small, since Spark's session pays 1-4 s per model whatever
# the size; large enough that every mart has rows (docs/spark.md, "The proof").
SPARK_SAMPLE_PER_DAY = 60

# Columns that record when a row was computed (the build's clock), not what the data says.
BUILD_TIME_COLUMNS = {"_refreshed_at", "source_refreshed_at", "_changed_at"}


@pytest.fixture(scope="module")
def both_engines(tmp_path_factory):
    """(home, DuckDB rows by mart, Spark rows by mart, DuckDB column types by mart)."""
    import duckdb

    from ingest import spark
    from ingest.run import pipeline
    from ingest.sample_world.registry import generate_all
    from ingest.sample_world.spec import SampleSpec

    home = Home.resolve(tmp_path_factory.mktemp("spark") / "home").ensure()
    generate_all(SampleSpec(home.landing, tuple(SAMPLE_DAYS), SPARK_SAMPLE_PER_DAY, SAMPLE_SEED))
    pipeline.load(home, "b1")
    pipeline.build(home)
    result = spark.build(home)
    assert result.success, result.failures

    duck, types = {}, {}
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        for mart in PUBLISHED_MARTS:
            cursor = con.execute(f"SELECT * FROM marts.{mart}")
            duck[mart] = ([d[0] for d in cursor.description], cursor.fetchall())
            types[mart] = dict(
                con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns"
                    " WHERE table_schema = 'marts' AND table_name = ?",
                    [mart],
                ).fetchall()
            )
    session = spark.session()
    on_spark = {}
    for mart in PUBLISHED_MARTS:
        frame = session.table(f"marts.{mart}")
        on_spark[mart] = (frame.columns, [tuple(row) for row in frame.collect()])
    return home, duck, on_spark, types


def _comparable(value):
    """One cell as a value both engines' drivers give alike: Spark's NaN-free doubles and
    DuckDB's are Python floats; decimals compare by value; lists as tuples."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, decimal.Decimal):
        return value.normalize()
    if isinstance(value, list):
        return tuple(_comparable(v) for v in value)
    return value


def _sort_key(row):
    return tuple((v is None, str(type(v).__name__), str(v) if v is not None else "") for v in row)


@pytest.mark.parametrize("mart", PUBLISHED_MARTS)
def test_mart_is_equal_on_spark_and_duckdb(both_engines, mart):
    _, duck, on_spark, types = both_engines
    duck_columns, duck_rows = duck[mart]
    spark_columns, spark_rows = on_spark[mart]
    assert spark_columns == duck_columns, "the same columns in the same order"
    assert len(duck_rows) > 0, f"{mart} is empty on DuckDB: the sample tests nothing there"
    assert len(spark_rows) == len(duck_rows)
    keep = [i for i, c in enumerate(duck_columns) if c not in BUILD_TIME_COLUMNS]
    duck_cells = sorted((tuple(_comparable(r[i]) for i in keep) for r in duck_rows), key=_sort_key)
    spark_cells = sorted((tuple(_comparable(r[i]) for i in keep) for r in spark_rows), key=_sort_key)
    differing = {}
    for position, i in enumerate(keep):
        column = duck_columns[i]
        pairs = [(d[position], s[position]) for d, s in zip(duck_cells, spark_cells) if d[position] != s[position]]
        if pairs:
            differing[column] = (len(pairs), pairs[:3], types[mart].get(column))
    assert not differing, f"{mart}: cells that differ (count, first pairs DuckDB vs Spark, type): {differing}"


def test_build_time_columns_are_timestamps(both_engines):
    """The columns left out of the comparison are the build's clock, never data."""
    _, duck, _, types = both_engines
    for mart, (columns, _) in duck.items():
        for column in set(columns) & BUILD_TIME_COLUMNS:
            assert types[mart][column].startswith("TIMESTAMP"), (mart, column)


def test_spark_read_the_loaded_rows(both_engines):
    """Spark's sources are the loader's tables: the same rows, lineage columns included."""
    import duckdb

    from ingest import spark

    home, *_ = both_engines
    session = spark.session()
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        for table in ("clearance_events", "clearance_declarations"):
            loaded = con.execute(f"SELECT count(*), count(DISTINCT _source_file) FROM raw.{table}").fetchone()
            read = session.sql(f"SELECT count(*), count(DISTINCT _source_file) FROM raw.{table}").collect()[0]
            assert tuple(read) == loaded
    assert dt.date(2006, 1, 1) in SAMPLE_DAYS and SAMPLE_SEED  # the sample the comparison is about


def test_publish_from_spark_gives_the_duckdb_snapshot(both_engines):
    """The publish step from either engine: the same snapshot layout, marts and digests. Last
    in the module: it replaces the home's DuckDB marts with Spark's."""
    from ingest import spark
    from ingest.run import pipeline

    home, *_ = both_engines
    from_duckdb = pipeline.publish(home, "duckdb")
    from_spark = spark.publish(home, "spark")
    assert sorted(from_spark["marts"]) == sorted(from_duckdb["marts"]) == sorted(PUBLISHED_MARTS)
    for mart, published in from_duckdb["marts"].items():
        assert from_spark["marts"][mart]["rows"] == published["rows"], mart
        assert from_spark["marts"][mart]["data_sha256"] == published["data_sha256"], mart
    assert (home.serving / "marts.duckdb").exists()
    assert {p.name for p in (home.serving / "parquet").iterdir()} == {f"{m}.parquet" for m in PUBLISHED_MARTS}
