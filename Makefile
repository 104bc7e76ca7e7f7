# Qoltanba developer entry points. `make help` lists them.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
VENV_PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

# QOLTANBA_PORT in the environment is honoured too (make run PORT=… or QOLTANBA_PORT=… make run).
PORT ?= $(or $(QOLTANBA_PORT),8000)
QOLTANBA_HOME ?= ./.qoltanba
PYTEST_ARGS ?=
# pytest-xdist workers: one per core (each with its own PostgreSQL server and SoftHSM2 token).
JOBS ?= auto

.PHONY: help venv install install-dev lock lockcheck sysdeps run test bench clean distclean i18n screenshots

help:
	@echo "make install   create $(VENV) and install the service from requirements.lock (no test tools)"
	@echo "make lock      re-resolve pyproject.toml at the newest releases into requirements*.lock"
	@echo "make sysdeps   install missing Debian packages (root on Debian only)"
	@echo "make run       qoltanba init + serve on PORT=$(PORT), QOLTANBA_HOME=$(QOLTANBA_HOME)"
	@echo "make test      lock check + import-linter + pytest on both cores (PYTEST_ARGS=...)"
	@echo "make bench     run benchmarks/*.py"
	@echo "make i18n      extract the pages' strings into api/pages/locale/*.po (pybabel extract/update), compile"
	@echo "make screenshots  retake docs/screenshots/*.png (the e2e tests, QOLTANBA_SCREENSHOTS=1)"
	@echo "make clean     remove caches and build output; distclean also removes $(VENV)"

# Installs come from the lock files only, with hashes (pip --require-hashes):
# requirements.lock for the service, requirements-dev.lock (the same pins and
# the test tools) for the tests. `make lock` moves them forward on purpose.
# setup.py builds the one native module (keys/gost/_native.c, Streebog);
# scripts/builddeps.sh first makes sure a C compiler and Python's headers are there.
NATIVE := setup.py keys/gost/_native.c keys/gost/_streebog_tables.h
PIP_LOCKED := $(VENV_PY) -m pip install --quiet --require-hashes --no-deps
PIP_SELF := $(VENV_PY) -m pip install --quiet --no-deps --no-build-isolation -e .
LOCALE := api/pages/locale
CATALOGUES := $(wildcard $(LOCALE)/*/LC_MESSAGES/messages.po)
PYBABEL := $(VENV)/bin/pybabel

venv install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml $(NATIVE) $(CATALOGUES)
	@test -n "$(PYTHON)" || { echo "no python3.11 or python3 found" >&2; exit 1; }
	bash scripts/builddeps.sh "$(PYTHON)"
	test -x $(VENV_PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_LOCKED) -r requirements.lock
	$(PIP_SELF)
	$(VENV_PY) -m compileall -q -j0 ca signing registry api keys >/dev/null
	$(PYBABEL) compile --statistics -d $(LOCALE) -D messages
	rm -f $(DEV_STAMP)
	touch $@

# The pages' translations (api/pages/locale/<lang>/LC_MESSAGES/messages.po, kept in git; the compiled
# .mo files are not: `make install` compiles them, and setup.py's build_py does for a wheel).
# `make i18n` after changing a page's or a sentence's words: new strings go into every .po, to translate.
i18n: $(STAMP)
	$(PYBABEL) extract -F $(LOCALE)/../babel.cfg -k N_ --no-location --sort-output --project Qoltanba \
		--version 0.1.0 --msgid-bugs-address "" -o $(LOCALE)/messages.pot .
	$(PYBABEL) update -i $(LOCALE)/messages.pot -d $(LOCALE) -D messages --width 100 --ignore-obsolete --no-fuzzy-matching
	$(PYBABEL) compile --statistics -d $(LOCALE) -D messages


install-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.lock
	$(PIP_LOCKED) -r requirements-dev.lock
	touch $@

lock: $(STAMP)
	bash scripts/lock.sh $(VENV_PY)

lockcheck: $(STAMP)
	$(VENV_PY) scripts/lockcheck.py

sysdeps:
	bash scripts/sysdeps.sh

# The port reaches the server through the settings variable QOLTANBA_PORT
# (api/settings.py reads QOLTANBA_* variables).
run: install
	QOLTANBA_BASE_URL=$${QOLTANBA_BASE_URL:-http://127.0.0.1:$(PORT)} QOLTANBA_HOME=$(QOLTANBA_HOME) $(VENV)/bin/qoltanba init
	QOLTANBA_BASE_URL=$${QOLTANBA_BASE_URL:-http://127.0.0.1:$(PORT)} QOLTANBA_HOME=$(QOLTANBA_HOME) QOLTANBA_PORT=$(PORT) exec $(VENV)/bin/qoltanba serve

# The project's own modules are compiled once before the suite: every test process, server and CLI
# subprocess then loads bytecode instead of compiling the sources again (about 0.15 s of CPU each,
# a few hundred processes a run). PYTHONDONTWRITEBYTECODE, when the environment sets it, is lifted
# for the suite alone for the same reason (pytest also keeps its rewritten test modules then).
SOURCES := ca signing registry api keys tests benchmarks

test: sysdeps install-dev lockcheck
	$(VENV)/bin/lint-imports
	$(VENV_PY) -m compileall -q -j0 $(SOURCES) >/dev/null
	env -u PYTHONDONTWRITEBYTECODE $(VENV_PY) -m pytest -q -n $(JOBS) $(PYTEST_ARGS)

screenshots: sysdeps install-dev
	QOLTANBA_SCREENSHOTS=1 $(VENV_PY) -m pytest -q -n $(JOBS) tests/e2e

bench: install-dev
	bash scripts/sysdeps.sh wrk
	@shopt -s nullglob; scripts=(benchmarks/*.py); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "bench: no benchmarks/*.py"; exit 0; fi; \
	failed=(); \
	for f in "$${scripts[@]}"; do \
		echo "== $$f"; \
		$(VENV_PY) "$$f" || failed+=("$$f"); \
	done; \
	if [ $${#failed[@]} -ne 0 ]; then echo "bench: failed: $${failed[*]}" >&2; exit 1; fi

clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis .import_linter_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
