#!/usr/bin/env bash
# Start the app as a newcomer gets it: migrate, seed the demo, then the web
# server and a Celery worker together. Ctrl-C stops both. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"

"$PY" manage.py migrate --noinput
"$PY" manage.py load_gpu_prices
"$PY" manage.py seed_demo
"$PY" manage.py load_default_checklist

"$PY" -m celery -A reviewapp worker -Q default,gpu -P threads -c 2 -l INFO \
    --without-gossip --without-mingle &
worker=$!
# Background jobs of a script ignore Ctrl-C, so the worker is stopped here.
trap 'kill -TERM "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT

echo "Serving http://127.0.0.1:${PORT}/ (Ctrl-C stops the server and the worker)"
"$PY" manage.py runserver "127.0.0.1:${PORT}"
