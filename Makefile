# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
PORT ?= 8000
# pytest processes for `make test`: one more than the cores, since a worker that waits on a
# server, a browser or PostgreSQL leaves its core to the others (0 runs the tests in this
# process).
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 1); echo $$((n + 1)))
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
INSTALLED_DEV := $(VENV)/.installed-dev
INSTALLED_BENCH := $(VENV)/.installed-bench

JS := sdk/js
JS_INSTALLED := $(JS)/node_modules/.installed

# How the tests run: in TEST_WORKERS processes, a worker that runs out of tests taking half of
# another's queue (worksteal; tests/conftest.py puts the long ones first), so they end together.
# Bytecode is cached even when the shell sets PYTHONDONTWRITEBYTECODE: without it each worker
# rewrites and compiles ~500 test and plugin modules again (about 5 s of CPU each) and each server
# a test starts compiles the project again. It is cached beside the sources, where pip already
# compiled the installed packages: a cache of its own (PYTHONPYCACHEPREFIX) made the first run
# after an install compile them all again, in every worker at once.
TEST_ENV := env -u PYTHONDONTWRITEBYTECODE

.PHONY: run test js-test browser-sdk lint typecheck unit install install-dev bench-deps clean

# Development: readable log lines (VEKST_LOG_FORMAT set in the environment wins); `vekst serve`
# itself logs JSON lines, as production wants.
run: $(INSTALLED)
	VEKST_LOG_FORMAT=$${VEKST_LOG_FORMAT:-human} $(VENV)/bin/vekst serve --port $(PORT)

# The browser bundles are built first (the browser tests load them); then lint-imports, the
# browser SDK's type check and Node tests, and mypy run beside pytest (whose workers wait on
# servers and browsers much of the time). Their report is printed after the tests', and any
# of them failing fails the target.
test: $(INSTALLED_DEV) $(JS_INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd $(JS) && node build.mjs
	report=$$(mktemp); \
	{ $(VENV)/bin/lint-imports && (cd $(JS) && npm run --silent check) && $(VENV)/bin/mypy; } \
		> $$report 2>&1 & checks=$$!; \
	$(TEST_ENV) $(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal; tests=$$?; \
	wait $$checks; checked=$$?; cat $$report; rm -f $$report; \
	[ $$checked -eq 0 ] && [ $$tests -eq 0 ]

# The quick tier while you work: no real processes, no browser (`make test` runs every tier).
unit: $(INSTALLED_DEV)
	$(TEST_ENV) $(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal -m "not processes and not browser"

# The browser SDK: Node's own test runner over the built bundle (needs Node 20 and npm).
js-test: $(JS_INSTALLED)
	cd $(JS) && npm test --silent

# The bundles the server serves at /static/vekst.min.js and .mjs: built here and committed, so
# `make run` needs no Node; `make js-test` fails while they differ from a fresh build.
browser-sdk: $(JS_INSTALLED)
	cd $(JS) && npm run build --silent
	cp $(JS)/dist/vekst.min.js $(JS)/dist/vekst.min.mjs $(JS)/dist/vekst-segments.min.js \
		$(JS)/dist/vekst-segments.min.mjs $(JS)/dist/vekst-nocode.min.js \
		$(JS)/dist/vekst-nocode.min.mjs api/browser_sdk/

$(JS_INSTALLED): $(JS)/package.json $(JS)/package-lock.json
	cd $(JS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

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

# gbstats (the comparison in bench_stats) pins pandas<2, which no longer installs here; it runs
# on current pandas, so it is installed without its own requirements.
$(INSTALLED_BENCH): $(INSTALLED_DEV)
	$(PY) -m pip install --quiet -e './sdk/python[openfeature]' -e '.[dev,bench]'
	$(PY) -m pip install --quiet --no-deps 'gbstats>=0.8'
	touch $@

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache $(JS)/node_modules $(JS)/dist
