#!/usr/bin/env bash
# One-off set-up of Superset (docker compose's superset-init service): its metadata schema, the
# admin login, roles, and the swpm marts as datasets. Run it again after the first nightly
# publish (or after a new mart lands) to register new marts.
set -euo pipefail
: "${SUPERSET_ADMIN_USER:?set SUPERSET_ADMIN_USER in .env}"
: "${SUPERSET_ADMIN_PASSWORD:?set SUPERSET_ADMIN_PASSWORD in .env}"

superset db upgrade
superset fab create-admin --username "$SUPERSET_ADMIN_USER" --password "$SUPERSET_ADMIN_PASSWORD" \
  --firstname swpm --lastname admin --email "${SUPERSET_ADMIN_EMAIL:-admin@example.invalid}" || true  # exists on a re-run
superset init
python /app/swpm/bootstrap.py
