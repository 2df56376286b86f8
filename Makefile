# Plan Bot: `make run` tries the bot in the terminal, `make test` runs every test.
# Needs only Python 3.11+ and make: uv is installed into .tools/ and the locked dependencies
# into .venv/ on first use, with this machine's Python (no interpreter downloads).

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Compiled bytecode in .venv: the bot starts in about a second instead of several (bench/).
export UV_COMPILE_BYTECODE := 1

.PHONY: run test lint format bench serve clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

run: $(VENV)/.synced  ## the bot in the terminal (local mode, SQLite, Hartford plan)
	$(VENV)/bin/planbot local

test: $(VENV)/.synced  ## every test, on SQLite and on PostgreSQL
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(VENV)/.synced
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

serve: $(VENV)/.synced
	$(VENV)/bin/planbot serve

bench: $(VENV)/.synced  ## the benchmarks against their targets (minutes); writes bench/RESULTS.md
	$(VENV)/bin/python -m bench

clean:
	rm -rf $(VENV) $(TOOLS)
