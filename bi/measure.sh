#!/usr/bin/env bash
# The Superset set-up's figures (docs/bi.md#figures): install from the lock with an empty uv
# cache and with a warm one, init (bootstrap.py --init) and the server's first answer, on a
# published snapshot. Everything goes into a temporary folder, removed after; the server binds
# 127.0.0.1 on a free port in its own process group and is stopped.
#   bash bi/measure.sh SERVING/marts.duckdb
set -euo pipefail
SNAPSHOT="$(realpath "${1:?usage: bi/measure.sh SERVING/marts.duckdb}")"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
UV="${UV:-$ROOT/.tools/bin/uv}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
WORK="$(mktemp -d)"
SERVER=""
cleanup() {
  if [ -n "$SERVER" ] && kill -- -"$SERVER" 2>/dev/null; then
    for _ in $(seq 1 60); do kill -0 -- -"$SERVER" 2>/dev/null || break; sleep 0.5; done
    kill -9 -- -"$SERVER" 2>/dev/null || true  # gunicorn had 30 s to stop gracefully
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
now() { date +%s.%N; }
since() { "$PYTHON" -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.1f}")' "$1"; }

install_lock() { UV_CACHE_DIR="$1" UV_PROJECT_ENVIRONMENT="$WORK/venv" "$UV" sync --frozen --no-dev --quiet \
  --project "$ROOT/bi/superset" --python "$PYTHON"; }
t=$(now); install_lock "$WORK/uv-cache"; echo "install, empty uv cache:  $(since "$t") s"
rm -rf "$WORK/venv"
t=$(now); install_lock "$WORK/uv-cache"; echo "install, warm uv cache:   $(since "$t") s"

export SUPERSET_HOME="$WORK/home" SUPERSET_CONFIG_PATH="$ROOT/bi/superset_config.py" SUPERSET_BIN="$WORK/venv/bin" \
  SUPERSET_SECRET_KEY="$("$PYTHON" -c "import secrets; print(secrets.token_hex(32))")" SUPERSET_ADMIN_PASSWORD="$("$PYTHON" -c "import secrets; print(secrets.token_hex(16))")" \
  SWPM_SNAPSHOT="$SNAPSHOT" PYTHONWARNINGS=ignore
mkdir -p "$SUPERSET_HOME"
t=$(now)
"$WORK/venv/bin/python" "$ROOT/bi/bootstrap.py" --init --snapshot "$SNAPSHOT" --admin admin > "$WORK/init.log" 2>&1 \
  || { tail -20 "$WORK/init.log"; exit 1; }
echo "init (bootstrap --init):  $(since "$t") s"

PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
t=$(now)
SUPERSET_BIND="127.0.0.1:$PORT" setsid bash "$ROOT/bi/serve.sh" > "$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 360); do
  curl -sf -m 2 "http://127.0.0.1:$PORT/health" > /dev/null && break
  sleep 0.5
done
curl -sf -m 2 "http://127.0.0.1:$PORT/health" > /dev/null || { tail -20 "$WORK/server.log"; exit 1; }
echo "server, first answer:     $(since "$t") s"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
