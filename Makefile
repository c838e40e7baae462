# The few targets people expect. Every target installs what it needs first, so
# `make run` and `make test` work on a fresh machine (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest bench deps redis-server curl browser clean

run: deps
	$(BIN)/remedy up $(ARGS)

test: deps lint typecheck pytest

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: deps
	$(BIN)/mypy

pytest: deps browser
	$(BIN)/pytest $(PYTEST_ARGS)

bench: deps
	$(BIN)/python -m tests.benchmarks $(ARGS)

deps: $(STAMP) redis-server curl

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "remedy needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

# Real programs the tests run, installed when the machine lacks them: redis-server (locks,
# idempotency ledger; never faked) and curl (the original system's step script, the
# benchmark baseline, calls it). One rule: $(call need,<command>,<apt/dnf package>,<brew formula>).
define need
	@command -v $(1) >/dev/null 2>&1 && exit 0; \
	echo "$(1) not found on PATH: installing it"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	if command -v apt-get >/dev/null 2>&1; then \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(2) >/dev/null; \
	elif command -v dnf >/dev/null 2>&1; then $$SUDO dnf install -y $(2); \
	elif command -v brew >/dev/null 2>&1; then brew install $(3); \
	else echo "cannot install $(1) here: install it and put it on PATH" >&2; exit 1; fi; \
	command -v $(1) >/dev/null 2>&1 || { echo "$(1) still not on PATH" >&2; exit 1; }
endef

redis-server:
	$(call need,redis-server,redis-server,redis)

curl:
	$(call need,curl,curl,curl)

# Debian's Chromium and its ChromeDriver, for the dashboard's browser tests (tests/dashboard)
# only: `make pytest` and `make test` install them, `make run` does not. A browser build
# downloaded by a test tool does not run everywhere; the distribution's does.
browser:
	$(call need,chromium,chromium,--cask chromium)
	$(call need,chromedriver,chromium-driver,--cask chromedriver)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
