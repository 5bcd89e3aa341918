"""Register the swpm serving snapshot with Superset and import the dashboards (bi/bundle/).

    python bi/bootstrap.py --snapshot SERVING/marts.duckdb --admin USER [--bundle bi/bundle]

- The database "swpm marts": a read-only DuckDB connection to the snapshot, locked down by its
  connect args (LOCKDOWN: no file access, no extension install or load, no SET afterwards).
- The bundle, imported as assets: databases, datasets, charts and dashboards are overwritten, so
  the committed YAML is the truth (Superset's own dashboard import keeps existing charts).
- One dataset per table in the snapshot (sync_datasets), so a mart without a chart is there too.

Safe to run again. Superset also calls sync_if_snapshot_changed before each request
(superset_config.py): after a publish, new marts and new columns appear without a manual step.
Ids are uuid5 of the names, so this file, the bundle and every Superset agree on them.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import tempfile
import uuid
from pathlib import Path

import duckdb
import yaml

DATABASE_NAME = "swpm marts"
SCHEMA = "main"
NOT_MARTS = {"snapshot_info"}
NAMESPACE = uuid.UUID("6c1f2f0e-5f8b-4e0a-9a57-2b1d3c0e5a11")  # fixed: the bundle's ids derive from it
DATABASE_UUID = uuid.uuid5(NAMESPACE, f"database/{DATABASE_NAME}")
BUNDLE = Path(__file__).resolve().parent / "bundle"
DATABASE_FILE = "databases/swpm_marts.yaml"
# DuckDB refuses, for the whole connection: reading or writing any file but the snapshot
# (COPY ... TO, read_text, read_csv, ATTACH), installing or loading extensions, and any later SET
# that would undo this. read_only refuses DML and DDL.
LOCKDOWN = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}

log = logging.getLogger("swpm.bi")


def dataset_uuid(mart: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"dataset/{DATABASE_NAME}/{mart}")


def sqlalchemy_uri(snapshot: Path | str) -> str:
    return f"duckdb:///{snapshot}"


def database_extra() -> dict:
    return {
        "engine_params": {"connect_args": {"read_only": True, "config": dict(LOCKDOWN)}},
        "allows_virtual_table_explore": True,
        "disable_data_preview": False,
    }


def snapshot_columns(snapshot: Path) -> dict[str, list[str]]:
    """Every mart in the snapshot with its columns, read with the same lockdown."""
    con = duckdb.connect(str(snapshot), read_only=True, config=dict(LOCKDOWN))
    try:
        rows = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = ? ORDER BY table_name, ordinal_position",
            [SCHEMA],
        ).fetchall()
    finally:
        con.close()
    marts: dict[str, list[str]] = {}
    for table, column in rows:
        if table not in NOT_MARTS:
            marts.setdefault(table, []).append(column)
    return marts


def bundle_contents(bundle: Path, snapshot: Path) -> dict[str, str]:
    """The bundle's files as an assets import, with the database pointed at this snapshot."""
    contents = {str(p.relative_to(bundle)): p.read_text(encoding="utf-8") for p in sorted(bundle.rglob("*.yaml"))}
    if "metadata.yaml" not in contents or DATABASE_FILE not in contents:
        raise SystemExit(f"bootstrap: {bundle} is not a swpm bundle (metadata.yaml, {DATABASE_FILE})")
    metadata = yaml.safe_load(contents["metadata.yaml"])
    metadata["type"] = "assets"
    contents["metadata.yaml"] = yaml.safe_dump(metadata)
    database = yaml.safe_load(contents[DATABASE_FILE])
    if database["uuid"] != str(DATABASE_UUID):
        raise SystemExit(f"bootstrap: {DATABASE_FILE} has uuid {database['uuid']}, expected {DATABASE_UUID}")
    database.update(sqlalchemy_uri=sqlalchemy_uri(snapshot), extra=database_extra())
    contents[DATABASE_FILE] = yaml.safe_dump(database)
    return contents


def register_database(snapshot: Path):
    from superset import db
    from superset.models.core import Database

    database = db.session.query(Database).filter_by(uuid=DATABASE_UUID).one_or_none()
    if database is None:
        database = db.session.query(Database).filter_by(database_name=DATABASE_NAME).one_or_none()
    if database is None:
        database = Database(database_name=DATABASE_NAME, uuid=DATABASE_UUID)
        db.session.add(database)
    database.uuid = DATABASE_UUID
    database.set_sqlalchemy_uri(sqlalchemy_uri(snapshot))
    database.extra = json.dumps(database_extra())
    database.expose_in_sqllab = True
    database.allow_dml = False
    database.allow_file_upload = False
    database.allow_ctas = database.allow_cvas = database.allow_run_async = False
    db.session.commit()
    return database


def import_bundle(bundle: Path, snapshot: Path, admin: str) -> None:
    from superset import security_manager
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.utils.core import override_user

    user = security_manager.find_user(username=admin)
    if user is None:
        raise SystemExit(f"bootstrap: no Superset user {admin!r} (superset fab create-admin first)")
    with override_user(user):
        ImportAssetsCommand(bundle_contents(bundle, snapshot)).run()


def sync_datasets(snapshot: Path) -> list[str]:
    """A dataset for every mart in the snapshot; columns refreshed where the mart's changed.
    Returns the marts added or refreshed."""
    from superset import db
    from superset.connectors.sqla.models import SqlaTable
    from superset.models.core import Database

    database = db.session.query(Database).filter_by(uuid=DATABASE_UUID).one_or_none()
    if database is None or not snapshot.exists():
        return []
    changed = []
    for mart, columns in snapshot_columns(snapshot).items():
        dataset = (
            db.session.query(SqlaTable).filter_by(database_id=database.id, schema=SCHEMA, table_name=mart).one_or_none()
        )
        if dataset is None:
            dataset = SqlaTable(table_name=mart, schema=SCHEMA, database=database, uuid=dataset_uuid(mart))
            db.session.add(dataset)
            db.session.flush()
        physical = {c.column_name for c in dataset.columns if not c.expression}
        if physical != set(columns):
            dataset.fetch_metadata()
            changed.append(mart)
    db.session.commit()
    return changed


_served: dict[str, tuple[int, int]] = {}


def sync_if_snapshot_changed(snapshot: Path) -> None:
    """Before a request: when another snapshot is served than the last one seen (publish swaps
    the file, so its inode changes), sync the datasets. One stat otherwise. Never fails the
    request: a failed sync is logged and tried again on the next request."""
    try:
        st = snapshot.stat()
    except FileNotFoundError:
        return
    key = (st.st_ino, st.st_mtime_ns)
    if _served.get(str(snapshot)) == key:
        return
    from superset import db

    lock = Path(tempfile.gettempdir()) / f"swpm-superset-sync-{os.getuid()}.lock"
    try:
        with open(lock, "a") as fh, _locked(fh):
            changed = sync_datasets(snapshot)
        if changed:
            log.warning("swpm: datasets synced with the new snapshot: %s", ", ".join(changed))
        _served[str(snapshot)] = key
    except Exception:  # noqa: BLE001 - the request goes on; the next one tries again
        db.session.rollback()
        log.exception("swpm: syncing the datasets with %s failed", snapshot)


@contextlib.contextmanager
def _locked(fh):
    fcntl.flock(fh, fcntl.LOCK_EX)  # gunicorn workers sync one at a time
    try:
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)


def init_superset(admin: str, password: str) -> None:
    """What `superset db upgrade`, `superset fab create-admin` and `superset init` do, in this
    one process (each of those commands spends ~10 s importing Superset)."""
    from flask_migrate import upgrade
    from superset import appbuilder, db, security_manager

    upgrade()
    if security_manager.find_user(username=admin) is None:
        role = security_manager.find_role(security_manager.auth_role_admin)
        security_manager.add_user(admin, "swpm", "admin", f"{admin}@example.invalid", role, password=password)
        print(f"bootstrap: admin user {admin!r} created")
    appbuilder.add_permissions(update_perms=True)
    security_manager.sync_role_definitions()
    db.session.commit()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--snapshot", type=Path, default=Path(os.environ.get("SWPM_SNAPSHOT", "")))
    parser.add_argument("--admin", default=os.environ.get("SUPERSET_ADMIN_USER", "admin"))
    parser.add_argument("--bundle", type=Path, default=BUNDLE)
    parser.add_argument(
        "--init",
        action="store_true",
        help="first migrate the metadata database, create the admin (password: "
        "$SUPERSET_ADMIN_PASSWORD) and sync roles",
    )
    args = parser.parse_args(argv)
    if not str(args.snapshot):
        raise SystemExit("bootstrap: --snapshot (or SWPM_SNAPSHOT) names serving/marts.duckdb")
    snapshot = args.snapshot.resolve()

    from superset.app import create_app

    app = create_app()
    with app.app_context():
        if args.init:
            password = os.environ.get("SUPERSET_ADMIN_PASSWORD")
            if not password:
                raise SystemExit("bootstrap: --init needs SUPERSET_ADMIN_PASSWORD")
            init_superset(args.admin, password)
        register_database(snapshot)
        import_bundle(args.bundle, snapshot, args.admin)
        if not snapshot.exists():
            print(f"bootstrap: {snapshot} is not published yet: the datasets appear after the first publish")
        for mart in sync_datasets(snapshot):
            print(f"bootstrap: dataset {mart} synced with the snapshot")
        print(f"bootstrap: database {DATABASE_NAME!r} -> {snapshot} (read-only, locked down); dashboards imported")


if __name__ == "__main__":
    main()
