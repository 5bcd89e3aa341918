"""Register the swpm serving snapshot with Superset: one database, "swpm marts", a read-only
DuckDB connection to serving/marts.duckdb, and one dataset per mart found in the snapshot (so a
mart added to dbt_project/models/marts/ appears after the next publish and a re-run). Safe to
run again: existing entries are updated, not duplicated."""

import os

import duckdb

SNAPSHOT = os.environ.get("SWPM_SNAPSHOT", "/data/swpm/serving/marts.duckdb")
DATABASE_NAME = "swpm marts"
# access_mode=read_only: a DuckDB reader never takes a write lock, and each query opens the file
# afresh (Superset's default NullPool), so it sees the snapshot last swapped in.
URI = f"duckdb:///{SNAPSHOT}?access_mode=read_only"


def marts_in_snapshot() -> list[str]:
    con = duckdb.connect(SNAPSHOT, read_only=True)
    try:
        rows = con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_name <> 'snapshot_info' ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def main() -> None:
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset import db
        from superset.connectors.sqla.models import SqlaTable
        from superset.models.core import Database

        database = db.session.query(Database).filter_by(database_name=DATABASE_NAME).one_or_none()
        if database is None:
            database = Database(database_name=DATABASE_NAME)
            db.session.add(database)
        database.set_sqlalchemy_uri(URI)
        database.expose_in_sqllab = True
        database.allow_dml = False
        database.allow_file_upload = False
        db.session.commit()
        if not os.path.exists(SNAPSHOT):
            print(f"bootstrap: {SNAPSHOT} not published yet; run this again after the first nightly run")
            return
        for mart in marts_in_snapshot():
            dataset = db.session.query(SqlaTable).filter_by(table_name=mart, database_id=database.id).one_or_none()
            if dataset is None:
                dataset = SqlaTable(table_name=mart, schema="main", database=database)
                db.session.add(dataset)
                db.session.commit()
            dataset.fetch_metadata()
            db.session.commit()
            print(f"bootstrap: dataset {mart} registered")


if __name__ == "__main__":
    main()
