# relance: two commands set everything up on a fresh machine.
#   make run   creates .venv, seeds the demo portfolio on first start, serves the app
#   make test  creates .venv, runs the linters and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint env bench clean

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

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench.projections
	$(BIN)/python -m bench.import

clean:
	rm -rf $(VENV) var .pytest_cache
