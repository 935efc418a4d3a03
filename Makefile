# Every target creates .venv and installs what it needs; nothing is done by hand.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The demo gets a venv of its own holding only `pip install .` (SQLite, no server driver),
# so it shows what a user's plain install runs; tests use .[dev,bench] in $(VENV).
DEMO_VENV  ?= .venv-demo
DEMO_STAMP := $(DEMO_VENV)/.installed

.PHONY: demo test lint bench clean pgbouncer

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/pip install --quiet --upgrade pip
	$(DEMO_VENV)/bin/pip install --quiet -e .
	touch $(DEMO_STAMP)

## demo: apply the example project's migrations to its embedded SQLite file and show their status
demo: $(DEMO_STAMP)
	cd examples/blog && rm -f whimbrel.db && ../../$(DEMO_VENV)/bin/whimbrel migrate \
		&& ../../$(DEMO_VENV)/bin/whimbrel status

TSDB := tests/timescale
# The TimescaleDB test server (PGlite + pglite-socket), pinned by its package-lock.json.
$(TSDB)/node_modules/.installed: $(TSDB)/package.json $(TSDB)/package-lock.json
	cd $(TSDB) && npm ci --silent
	touch $@

# PgBouncer (Debian package) for the lease-lock test through a transaction-mode pooler.
pgbouncer:
	@command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] \
		|| (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer) >/dev/null 2>&1 \
		|| echo "could not install pgbouncer: the PgBouncer test will fail" >&2

## test: the whole suite (unit + integration on real SQLite, PostgreSQL, MariaDB and TimescaleDB), lint and types
test: $(STAMP) $(TSDB)/node_modules/.installed pgbouncer
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

## clean: remove the virtualenv, the example's database and its lock file, bench output
clean:
	rm -rf $(VENV) $(DEMO_VENV) examples/blog/whimbrel.db examples/blog/whimbrel.db-whimbrel.lock bench/.work
