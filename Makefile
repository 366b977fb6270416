# relance: two commands set everything up on a fresh machine.
#   make run   creates .venv, seeds the demo portfolio on first start, serves the app
#   make test  creates .venv, runs the linters and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint env bench browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

env: $(STAMP)

run: $(STAMP)
	$(BIN)/relance demo seed --if-empty --files 300
	$(BIN)/relance serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Browser tests drive Debian's Chromium through Playwright (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null); } || \
	  echo "chromium is not installed: the browser tests will say so"

test: lint browser
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench.projections
	$(BIN)/python -m bench.import
	$(BIN)/python -m bench.pages

clean:
	rm -rf $(VENV) var .pytest_cache
