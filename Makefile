# Qoltanba developer entry points. `make help` lists them.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
VENV_PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

PORT ?= 8000
QOLTANBA_HOME ?= ./.qoltanba
PYTEST_ARGS ?=

.PHONY: help venv install sysdeps run test bench clean distclean

help:
	@echo "make install   create $(VENV) and pip install -e '.[dev]' (when pyproject.toml or setup.py changes)"
	@echo "make sysdeps   install missing Debian packages (root on Debian only)"
	@echo "make run       qoltanba init + serve on PORT=$(PORT), QOLTANBA_HOME=$(QOLTANBA_HOME)"
	@echo "make test      import-linter + pytest (PYTEST_ARGS=...)"
	@echo "make bench     run benchmarks/*.py"
	@echo "make clean     remove caches and build output; distclean also removes $(VENV)"

venv install: $(STAMP)

# setup.py builds the one native module (keys/gost/_native.c, Streebog);
# scripts/builddeps.sh first makes sure a C compiler and Python's headers are there.
$(STAMP): pyproject.toml setup.py keys/gost/_native.c keys/gost/_streebog_tables.h
	@test -n "$(PYTHON)" || { echo "no python3.11 or python3 found" >&2; exit 1; }
	bash scripts/builddeps.sh "$(PYTHON)"
	test -x $(VENV_PY) || $(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install --upgrade pip
	$(VENV_PY) -m pip install -e '.[dev]'
	touch $@

sysdeps:
	bash scripts/sysdeps.sh

# The port reaches the server through the settings variable QOLTANBA_PORT
# (api/settings.py reads QOLTANBA_* variables).
run: install
	QOLTANBA_BASE_URL=$${QOLTANBA_BASE_URL:-http://127.0.0.1:$(PORT)} QOLTANBA_HOME=$(QOLTANBA_HOME) $(VENV)/bin/qoltanba init
	QOLTANBA_BASE_URL=$${QOLTANBA_BASE_URL:-http://127.0.0.1:$(PORT)} QOLTANBA_HOME=$(QOLTANBA_HOME) QOLTANBA_PORT=$(PORT) exec $(VENV)/bin/qoltanba serve

test: sysdeps install
	$(VENV)/bin/lint-imports
	$(VENV_PY) -m pytest -q $(PYTEST_ARGS)

bench: install
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
