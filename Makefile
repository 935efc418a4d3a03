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

## test: the whole suite (unit + integration on real SQLite and PostgreSQL), lint and types
test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

## bench: whimbrel against each database's own client, alembic and yoyo; one table (BENCH_ARGS=--quick)
bench: $(STAMP)
	@command -v sqlite3 >/dev/null || apt-get install -y -qq sqlite3 >/dev/null 2>&1 \
		|| echo "no sqlite3 client: the SQLite floor is Python's sqlite3.executescript"
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) examples/blog/whimbrel.db bench/.work
