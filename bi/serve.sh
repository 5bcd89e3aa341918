#!/usr/bin/env bash
# Serve Superset with gunicorn: `make bi` (127.0.0.1), the tests (a free port) and compose
# (0.0.0.0 inside the container). Settings: bi/superset_config.py, from the environment.
set -euo pipefail
: "${SUPERSET_CONFIG_PATH:?set SUPERSET_CONFIG_PATH (bi/superset_config.py)}"
BIN="${SUPERSET_BIN:-$(dirname "$0")/superset/.venv/bin}"
exec "$BIN/gunicorn" --bind "${SUPERSET_BIND:-127.0.0.1:8088}" \
  --workers "${SUPERSET_WORKERS:-2}" --worker-class gthread --threads 4 --timeout 120 \
  --no-control-socket --access-logfile "${SUPERSET_ACCESS_LOG:--}" \
  "superset.app:create_app()"
