# Every target creates .venv and installs what it needs; nothing is done by hand.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

## demo: apply the example project's migrations to its embedded SQLite file and show their status
demo: $(STAMP)
	cd examples/blog && rm -f whimbrel.db && ../../$(BIN)/whimbrel migrate && ../../$(BIN)/whimbrel status

TSDB := tests/timescale
# The TimescaleDB test server (PGlite + pglite-socket), pinned by its package-lock.json.
$(TSDB)/node_modules/.installed: $(TSDB)/package.json $(TSDB)/package-lock.json
	cd $(TSDB) && npm ci --silent
	touch $@

## test: the whole suite (unit + integration on real SQLite, PostgreSQL and TimescaleDB), lint and types
test: $(STAMP) $(TSDB)/node_modules/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

## bench: whimbrel against psql, alembic and yoyo on PostgreSQL (N=500)
bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) examples/blog/whimbrel.db bench/.work
