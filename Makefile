# One task runner: `make demo`, `make test`, `make check`, `make bench`.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-postgres check lint types bench serve run clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# setuptools' notices about editable installs are for package authors, not for `make demo`.
$(STAMP): pyproject.toml | $(BIN)/python
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## Demo platforms on loopback → connectors → matching → search page on http://127.0.0.1:$(PORT)/
demo: $(STAMP)
	$(BIN)/aggregator demo --port $(PORT)

## The test suite (PostgreSQL tests run when AGGREGATOR_TEST_POSTGRES_URL is set)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: lint types test

lint: $(STAMP)
	$(BIN)/ruff check aggregator connectors dedupe search scheduler.py tests benchmarks
	$(BIN)/ruff format --check aggregator connectors dedupe search scheduler.py tests benchmarks

types: $(STAMP)
	$(BIN)/mypy

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

## Benchmarks (installs the `bench` extra: Splink and DuckDB, the peers they compare with)
bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/dedupe.py --records 100000
	$(BIN)/python benchmarks/matching_real.py

run: $(STAMP)
	$(BIN)/aggregator run

serve: $(STAMP)
	$(BIN)/aggregator serve --schedule --port $(PORT)

clean:
	rm -rf var .pytest_cache test-artifacts
