# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
PORT ?= 8000
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
INSTALLED_DEV := $(VENV)/.installed-dev
INSTALLED_BENCH := $(VENV)/.installed-bench

.PHONY: run test lint typecheck unit install install-dev bench-deps clean

run: $(INSTALLED)
	$(VENV)/bin/vekst serve --port $(PORT)

test: $(INSTALLED_DEV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest

install: $(INSTALLED)
install-dev: $(INSTALLED_DEV)
bench-deps: $(INSTALLED_BENCH)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(INSTALLED): $(PY) pyproject.toml sdk/python/pyproject.toml
	$(PY) -m pip install --quiet -e './sdk/python[openfeature]' -e .
	touch $@

$(INSTALLED_DEV): $(INSTALLED)
	$(PY) -m pip install --quiet -e './sdk/python[openfeature]' -e '.[dev]'
	touch $@

$(INSTALLED_BENCH): $(INSTALLED_DEV)
	$(PY) -m pip install --quiet -e './sdk/python[openfeature]' -e '.[dev,bench]'
	touch $@

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
