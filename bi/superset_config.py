"""Superset settings for swpm, the same for `make bi`, the tests and docker compose. Secrets come
from the environment, nothing in clear here:

- SUPERSET_SECRET_KEY (required); SUPERSET_HOME: the metadata folder (`make bi`: .superset/);
- the metadata database: Postgres when SUPERSET_DB_USER is set (compose), else SQLite in
  SUPERSET_HOME;
- SWPM_SNAPSHOT: the served snapshot; the dataset list follows it (bootstrap.sync_datasets on the
  first request after each publish), so a mart added to dbt shows up after the next publish.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # bootstrap.py, beside this file

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
if os.environ.get("SUPERSET_DB_USER"):
    SQLALCHEMY_DATABASE_URI = (
        f"postgresql+psycopg2://{os.environ['SUPERSET_DB_USER']}:{os.environ['SUPERSET_DB_PASSWORD']}"
        f"@{os.environ.get('SUPERSET_DB_HOST', 'postgres')}:5432/{os.environ.get('SUPERSET_DB_NAME', 'superset')}"
    )
else:
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{Path(os.environ['SUPERSET_HOME']).resolve() / 'superset.db'}"

# The marts are read-only and small: no template processing, no file uploads, no async SQL Lab
# (no Celery), no data cache (a publish must show in the next query), no screenshots or reports.
FEATURE_FLAGS = {
    "ENABLE_TEMPLATE_PROCESSING": False,
    "ALERT_REPORTS": False,
    "THUMBNAILS": False,
    "EMBEDDED_SUPERSET": False,
}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
PREVENT_UNSAFE_DB_CONNECTIONS = True  # covers SQLite files, not DuckDB: bootstrap locks DuckDB down
WTF_CSRF_ENABLED = True
SQLLAB_TIMEOUT = 60
SQL_MAX_ROW = 100_000
LOG_LEVEL = os.environ.get("SUPERSET_LOG_LEVEL", "WARNING")


def FLASK_APP_MUTATOR(app):  # noqa: N802 (Superset's name)
    snapshot = os.environ.get("SWPM_SNAPSHOT")
    if snapshot:
        import bootstrap

        app.before_request(lambda: bootstrap.sync_if_snapshot_changed(Path(snapshot)))
