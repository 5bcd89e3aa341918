#!/usr/bin/env bash
# One-off set-up of the Airflow deployment (docker compose's airflow-init service): the
# metadata database schema, the first admin login, and the data folders. Safe to run again.
set -euo pipefail

: "${AIRFLOW_ADMIN_USER:?set AIRFLOW_ADMIN_USER in .env}"
: "${AIRFLOW_ADMIN_PASSWORD:?set AIRFLOW_ADMIN_PASSWORD in .env}"

mkdir -p "$SWPM_HOME/landing" "$SWPM_HOME/quarantine" "$SWPM_HOME/warehouse" "$SWPM_HOME/serving"

airflow db migrate
# Every task that opens the DuckDB warehouse takes this pool's one slot (docs/operations.md#the-scheduler).
airflow pools set swpm_warehouse 1 "swpm: one task at a time opens the DuckDB warehouse (nightly and intraday)"

if airflow users list --output plain | awk '{print $2}' | grep -qx "$AIRFLOW_ADMIN_USER"; then
  echo "airflow-init: admin user $AIRFLOW_ADMIN_USER already exists"
else
  airflow users create --role Admin --username "$AIRFLOW_ADMIN_USER" --password "$AIRFLOW_ADMIN_PASSWORD" \
    --firstname swpm --lastname admin --email "${AIRFLOW_ADMIN_EMAIL:-admin@example.invalid}"
fi
echo "airflow-init: done (home $SWPM_HOME)"
