#!/usr/bin/env bash
# The whole test suite, twice: on the embedded defaults (SQLite, filesystem broker), then
# on the production stack (PostgreSQL + Redis) whenever those are reachable. Services
# installed on this machine but stopped are started; missing ones are reported, not faked.
# Extra arguments go to pytest (e.g. ./deploy/test.sh tests/annotate -x).
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/bootstrap.sh

export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
py=.venv/bin/python
pg_url=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
redis_url=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}

ensure_chromium() {
  [ -x /usr/bin/chromium ] && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "==> installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "==> no /usr/bin/chromium and no root to install it: browser tests will be skipped"
  fi
}

reachable() { "$py" - "$1" <<'PY'
import socket, sys
from urllib.parse import urlparse
u = urlparse(sys.argv[1])
try:
    socket.create_connection((u.hostname, u.port), timeout=2).close()
except OSError:
    sys.exit(1)
PY
}

start_services() {
  if ! reachable "$pg_url" && command -v pg_ctlcluster >/dev/null; then
    echo "==> starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  if ! reachable "$redis_url" && command -v redis-server >/dev/null; then
    echo "==> starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no || true
  fi
  for _ in $(seq 20); do reachable "$pg_url" && reachable "$redis_url" && return; sleep 0.5; done
}

ensure_chromium
start_services

echo "==> pass 1: SQLite + filesystem broker"
env -u DATABASE_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND "$py" -m pytest "$@"

if reachable "$pg_url" && reachable "$redis_url"; then
  echo "==> pass 2: PostgreSQL ($pg_url) + Redis ($redis_url)"
  DATABASE_URL=$pg_url CELERY_BROKER_URL=$redis_url "$py" -m pytest "$@"
elif [ "${CI:-}" = true ]; then
  echo "==> PostgreSQL or Redis unreachable in CI: the production-stack pass cannot run" >&2
  exit 1
else
  echo "==> SKIPPED pass 2: PostgreSQL ($pg_url) or Redis ($redis_url) is not reachable"
fi
