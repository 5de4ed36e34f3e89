# The same commands run on a laptop and in CI (.ci/run calls `make test`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench run clean

# Build the virtualenv once, and again whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## demo: the board on a simulated helpdesk at http://127.0.0.1:5001 (no credentials needed)
demo: $(STAMP)
	$(BIN)/python -m app --demo

## run: the board on tickets/ (settings from ticket-dash.toml and TICKET_DASH_* variables)
run: $(STAMP)
	$(BIN)/python -m app

## test: lint, then the whole test suite (browser tests need /usr/bin/chromium)
test: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## lint: ruff, strict types (mypy), and the import rules of docs/architecture.md
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## bench: the benchmarks of bench/ (print numbers; see docs/benchmarks.md)
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) demo-data .pytest_cache .ruff_cache
