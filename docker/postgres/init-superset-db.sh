#!/usr/bin/env bash
# First start of the Postgres container: a database and login for Superset's own metadata,
# beside Airflow's (POSTGRES_DB). Postgres runs this only when its data volume is empty.
set -euo pipefail
: "${SUPERSET_DB_USER:?}" "${SUPERSET_DB_PASSWORD:?}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     --set=usr="$SUPERSET_DB_USER" --set=pw="$SUPERSET_DB_PASSWORD" <<'SQL'
CREATE USER :"usr" WITH PASSWORD :'pw';
CREATE DATABASE superset OWNER :"usr";
SQL
