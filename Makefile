# The same commands run on a laptop and in CI (.ci/run calls `make test-all`).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The newest CPython 3.x that pyenv has (empty when none): `make test-all` runs the suite on it too.
PYENV_VERSIONS ?= $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions
NEWEST_PYTHON ?= $(shell ls -d $(PYENV_VERSIONS)/3.*/bin/python3 2>/dev/null | sort -V | tail -n 1)

.PHONY: demo test test-all lint bench run clean

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

## test: lint, then the whole test suite on $(PYTHON) (browser tests need /usr/bin/chromium)
test: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## test-all: `make test`, then the whole suite again on the newest Python pyenv has (what CI runs)
test-all: test
	@newest="$(NEWEST_PYTHON)"; \
	if [ -z "$$newest" ]; then \
	  echo "test-all: no pyenv Python found under $(PYENV_VERSIONS): the suite ran on $(PYTHON) only"; \
	  exit 0; \
	fi; \
	version=$$($$newest -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	if [ "$$version" = "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" ]; then \
	  echo "test-all: no Python newer than $$version under $(PYENV_VERSIONS): the suite ran on $$version only"; \
	else \
	  echo "test-all: the whole suite again on Python $$version ($$newest)"; \
	  $(MAKE) --no-print-directory test PYTHON=$$newest VENV=.venv-py$$version; \
	fi

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
	rm -rf $(VENV) .venv-py3.* demo-data .pytest_cache .ruff_cache
