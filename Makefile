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
# When make began (set-up included): `make demo` records its whole time for `make bench`.
MAKE_STARTED := $(shell date +%s.%N)

BENCH_CALLS ?= 1000000

.PHONY: help setup airflow-init browser postgres demo report test test-bigquery reliability bench lint airflow-ui clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

setup: ## install the locked dependencies into .venv (uv sync --frozen, bytecode compiled once)
	@$(UV) --version > /dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --quiet --compile-bytecode

airflow-init: setup ## migrate the local Airflow metadata DB (SQLite) and create the warehouse pool
	@mkdir -p $(AIRFLOW_HOME) data
	$(RUN) airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || { cat $(AIRFLOW_HOME)/db-migrate.log; exit 1; }
	$(RUN) airflow pools set ringback_warehouse 1 "one writer at a time on the DuckDB file" > /dev/null

# The report test opens the HTML report in headless Chromium: Debian's package, installed here when
# missing (as root or with password-less sudo). Elsewhere install Chromium yourself, or set
# RINGBACK_SKIP_BROWSER=1 to skip that one test.
browser: ## install Debian's chromium for the report test when it is missing
	@if [ "$$RINGBACK_SKIP_BROWSER" = 1 ] || command -v chromium > /dev/null 2>&1; then exit 0; fi; \
	if ! command -v apt-get > /dev/null 2>&1; then \
	  echo "make browser: no chromium and no apt-get; install Chromium or set RINGBACK_SKIP_BROWSER=1" >&2; exit 1; fi; \
	SUDO=; [ "$$(id -u)" = 0 ] || SUDO="sudo -n"; \
	echo "installing Debian's chromium (apt-get) for the report test"; \
	$$SUDO apt-get update -qq > /dev/null && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium > /dev/null

demo: airflow-init ## run the pipeline under Airflow for the last 7 days on DuckDB + simulators
	rm -rf data/ringback.duckdb data/ringback.duckdb.wal data/batches expectations/uncommitted
	$(RUN) ringback init --warehouse $(RINGBACK_WAREHOUSE_URL)
	RINGBACK_DEMO_STARTED=$(MAKE_STARTED) $(RUN) ringback-dev demo

REPORT_DAYS ?= 7
report: setup browser ## HTML report of the last REPORT_DAYS days of the warehouse, checked and screenshotted in Chromium
	$(RUN) ringback report --start $$(date -d "-$(REPORT_DAYS) days" +%F) --end $$(date -d "-1 day" +%F) \
	  --out data/reports/ringback-report.html
	$(RUN) ringback-dev check-report data/reports/ringback-report.html \
	  --screenshot data/reports/ringback-report.png

# Three workers on two cores: most tests wait on simulated providers' backoff, not on the CPU.
PYTEST_WORKERS ?= 3
# The Asterisk cdr-table tests run against a real PostgreSQL too: Debian's package, installed
# here when missing (as root or with password-less sudo); RINGBACK_SKIP_POSTGRES=1 skips them.
postgres: ## install Debian's postgresql for the Asterisk database tests when it is missing
	@if [ "$$RINGBACK_SKIP_POSTGRES" = 1 ] || ls /usr/lib/postgresql/*/bin/pg_ctl > /dev/null 2>&1; then exit 0; fi; \
	if ! command -v apt-get > /dev/null 2>&1; then \
	  echo "make postgres: no PostgreSQL and no apt-get; install it or set RINGBACK_SKIP_POSTGRES=1" >&2; exit 1; fi; \
	SUDO=; [ "$$(id -u)" = 0 ] || SUDO="sudo -n"; \
	echo "installing Debian's postgresql (apt-get) for the Asterisk database tests"; \
	$$SUDO apt-get update -qq > /dev/null && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends postgresql > /dev/null

test: airflow-init browser postgres ## the test suite (~5 min; the long tiers are make reliability and make test-bigquery)
	$(RUN) python -m ringback_dev.googlesql
	$(RUN) pytest -q -n $(PYTEST_WORKERS) -m "not reliability and not bigquery and not serial"
	$(RUN) pytest -q -m "serial and not reliability and not bigquery"

# The emulator needs a Python 3.13 that uv cannot download here; see bigquery-emulator/setup.sh.
test-bigquery: setup ## the BigQuery backend against a local BigQuery emulator (~13 min; an emulator per test)
	UV="$(UV)" ./bigquery-emulator/setup.sh
	$(RUN) pytest -q -n 2 -m bigquery

reliability: airflow-init ## reliability + security tier, with the 90-day Airflow backfill (~55 min)
	$(RUN) pytest -q -m reliability

bench: setup ## benchmark: BENCH_CALLS calls (default 1M; try 10000000), figures to bench/results.md
	$(RUN) ringback-dev bench --calls $(BENCH_CALLS) $(if $(BENCH_MEMORY_LIMIT),--memory-limit $(BENCH_MEMORY_LIMIT))

lint: setup ## ruff and sqlfluff
	$(RUN) ruff check plugins tools dags tests
	$(RUN) ruff format --check plugins tools dags tests
	$(RUN) sqlfluff lint sql

airflow-ui: airflow-init ## start Airflow locally (api-server, scheduler, dag-processor, triggerer) on :8080
	$(RUN) airflow standalone

clean: ## remove local state (warehouse, batches, Airflow home, GX results, the emulator)
	rm -rf data .airflow expectations/uncommitted .pytest_cache .bqemu
