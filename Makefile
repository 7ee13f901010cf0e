# ringback: `make demo` and `make test` set themselves up from a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv from PATH, else the module pip installs (no assumption about where pip puts scripts).
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
export AIRFLOW_HOME := $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__UNIT_TEST_MODE := False
export AIRFLOW__LOGGING__LOGGING_LEVEL := WARNING
export GX_ANALYTICS_ENABLED := false
export RINGBACK_HOME := $(CURDIR)
export RINGBACK_WAREHOUSE_URL ?= duckdb:///$(CURDIR)/data/ringback.duckdb
RUN := $(UV) run --frozen

BENCH_CALLS ?= 1000000

.PHONY: help setup airflow-init demo test reliability bench lint airflow-ui clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

setup: ## install the locked dependencies into .venv (uv sync --frozen)
	@$(UV) --version > /dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --quiet

airflow-init: setup ## migrate the local Airflow metadata DB (SQLite) and create the warehouse pool
	@mkdir -p $(AIRFLOW_HOME) data
	$(RUN) airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || { cat $(AIRFLOW_HOME)/db-migrate.log; exit 1; }
	$(RUN) airflow pools set ringback_warehouse 1 "one writer at a time on the DuckDB file" > /dev/null

demo: airflow-init ## run the pipeline under Airflow for the last 7 days on DuckDB + simulators
	rm -rf data/ringback.duckdb data/ringback.duckdb.wal data/batches expectations/uncommitted
	$(RUN) ringback init --warehouse $(RINGBACK_WAREHOUSE_URL)
	$(RUN) ringback demo

test: airflow-init ## run the test suite (all but the 90-day backfill)
	$(RUN) pytest -q -m "not backfill"

reliability: airflow-init ## reliability + security tier, with the 90-day Airflow backfill (~30 min)
	$(RUN) pytest -q -m reliability

bench: setup ## benchmark: BENCH_CALLS calls (default 1M; try 10000000), figures to bench/results.md
	$(RUN) python -m ringback.bench --calls $(BENCH_CALLS) $(if $(BENCH_MEMORY_LIMIT),--memory-limit $(BENCH_MEMORY_LIMIT))

lint: setup ## ruff and sqlfluff
	$(RUN) ruff check plugins dags tests
	$(RUN) ruff format --check plugins dags tests
	$(RUN) sqlfluff lint sql

airflow-ui: airflow-init ## start Airflow locally (api-server, scheduler, dag-processor, triggerer) on :8080
	$(RUN) airflow standalone

clean: ## remove local state (warehouse, batches, Airflow home, GX results)
	rm -rf data .airflow expectations/uncommitted .pytest_cache
