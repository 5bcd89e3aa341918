#!/usr/bin/env bash
# One-off set-up of Superset (docker compose's superset-init service): its metadata schema, the
# admin login, roles, the snapshot's database and datasets, and the dashboards (bi/bundle/).
# Safe to run again; marts published later appear by themselves (bi/superset_config.py).
set -euo pipefail
: "${SUPERSET_ADMIN_USER:?set SUPERSET_ADMIN_USER in .env}"
: "${SUPERSET_ADMIN_PASSWORD:?set SUPERSET_ADMIN_PASSWORD in .env}"
: "${SWPM_SNAPSHOT:?set SWPM_SNAPSHOT}"
python /app/swpm/bootstrap.py --init --snapshot "$SWPM_SNAPSHOT" --admin "$SUPERSET_ADMIN_USER"
