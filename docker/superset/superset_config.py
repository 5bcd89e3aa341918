"""Superset settings for the swpm deployment: secrets and the metadata database from the
environment (docker-compose.yml passes them from .env), nothing in clear here."""

import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = (
    f"postgresql+psycopg2://{os.environ['SUPERSET_DB_USER']}:{os.environ['SUPERSET_DB_PASSWORD']}"
    f"@{os.environ.get('SUPERSET_DB_HOST', 'postgres')}:5432/{os.environ.get('SUPERSET_DB_NAME', 'superset')}"
)
# The marts are read-only: no file uploads, no DML from SQL Lab.
FEATURE_FLAGS = {"ENABLE_TEMPLATE_PROCESSING": False}
PREVENT_UNSAFE_DB_CONNECTIONS = True
WTF_CSRF_ENABLED = True
