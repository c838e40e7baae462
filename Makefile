# The few targets people expect. Every target installs what it needs first, so
# `make run` and `make test` work on a fresh machine (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench deps redis-server clean

run: deps
	$(BIN)/remedy up $(ARGS)

test: deps lint typecheck pytest

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: deps
	$(BIN)/mypy

pytest: deps
	$(BIN)/pytest $(PYTEST_ARGS)

bench: deps
	$(BIN)/python -m tests.benchmarks $(ARGS)

deps: $(STAMP) redis-server

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "remedy needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# Redis is a real dependency (locks, idempotency ledger), never faked: install
# the server binary when the machine has none.
redis-server:
	@command -v redis-server >/dev/null 2>&1 && exit 0; \
	echo "redis-server not found on PATH: installing it"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	if command -v apt-get >/dev/null 2>&1; then \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server >/dev/null; \
	elif command -v dnf >/dev/null 2>&1; then $$SUDO dnf install -y redis; \
	elif command -v brew >/dev/null 2>&1; then brew install redis; \
	else echo "cannot install redis-server here: install it and put it on PATH" >&2; exit 1; fi; \
	command -v redis-server >/dev/null 2>&1 || { echo "redis-server still not on PATH" >&2; exit 1; }

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
