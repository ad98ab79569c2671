#!/usr/bin/env bash
# make test: the whole suite in two parts. First every test that does not measure the machine, in
# parallel processes (pytest-xdist, TEST_WORKERS of them, one per core by default); then the tests
# marked `serial` (real serving runs, tests/conftest.py SERIAL_TESTS) alone, so that no other test
# competes with their measurements. Arguments go to pytest as they are and run in one process,
# e.g. `make test PYTEST_ARGS="tests/engine -k planning"`.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if (($#)); then
    exec "$PY" -m pytest "$@"
fi
workers="${TEST_WORKERS:-$(nproc)}"
"$PY" -m pytest -n "$workers" -m "not serial"
parallel=$?
"$PY" -m pytest -p no:xdist -m serial
serial=$?
# pytest exits 5 when a part selected no test: that part did not fail.
for rc in "$parallel" "$serial"; do
    if ((rc != 0 && rc != 5)); then
        echo "make test: parallel part exited $parallel, serial part exited $serial"
        exit 1
    fi
done
if ((parallel == 5 && serial == 5)); then
    echo "make test: no test ran"
    exit 5
fi
