#!/usr/bin/env bash
# The product on the embedded defaults: SQLite, a filesystem broker, one worker on both
# queues, the development web server, and demo data. Ctrl-C stops the server and the worker.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/bootstrap.sh

export HF_HUB_OFFLINE=1
host=${HOST:-127.0.0.1}
port=${PORT:-8000}
py=.venv/bin/python

$py manage.py migrate --no-input
$py manage.py seed_demo --url "http://$host:$port/"

mkdir -p var/log
$py -m celery -A prefstack worker -Q default,gpu --concurrency 1 --loglevel INFO >var/log/worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM
echo "==> worker running (pid $worker, log: var/log/worker.log)"
echo "==> Prefstack at http://$host:$port/   (admin: http://$host:$port/admin/)"
$py manage.py runserver "$host:$port"
