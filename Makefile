# The two commands of the README: `make run` and `make test`.
# Everything else here is what they need, done once and redone only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test install install-dev worker docs clean

run: install
	./scripts/run.sh

test: install-dev
	DATA_DIR="$(CURDIR)/data/test" ./scripts/test.sh $(PYTEST_ARGS)

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(PY):
	$(PYTHON) -m venv $(VENV)

# The embedded default runs benchmark jobs in its one worker, so it installs the `serving`
# extra (PyTorch); the web and default-worker images install the base only (Dockerfile).
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --editable '.[serving]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet --editable '.[serving,dev]'
	touch $@

worker: install
	$(PY) -m celery -A reviewapp worker -Q default,gpu -P threads -c 2 -l INFO

clean:
	rm -rf data/test staticfiles .pytest_cache
