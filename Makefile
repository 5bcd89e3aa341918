# Two commands do all the set-up on a fresh machine with Python 3.11 and make:
#   make demo   the whole nightly pipeline on the bundled sample world, through the real Airflow DAG
#   make test   the test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.9.30
TOOLS := $(CURDIR)/.tools
UV := $(TOOLS)/bin/uv
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin

export SWPM_HOME ?= $(CURDIR)/swpm_home
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := True
export GX_ANALYTICS_ENABLED := False
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Every environment installed with its bytecode: where PYTHONDONTWRITEBYTECODE is set (as here),
# each process (Airflow task, dbt or GX start, Superset) would otherwise compile its imports
# again, about 10 s of CPU per process for GX and dbt alone (docs/development.md#bytecode).
export UV_COMPILE_BYTECODE := 1

# The demo's sample world: 2006 (Single Window launch) to 2018, the first day of every month
# (continuous monthly series), 500 declarations a day (156 nightly drops, 312 files).
DEMO_GENERATE := --start 2006-01-01 --days 4748 --days-per-month 1 \
                 --declarations-per-day 500 --seed 20060101
DEMO_DATE ?= $(shell date +%Y-%m-%d)
# A real ServiceNow incident export, loaded as it is as its own ITSM instance ("servicenow").
# (Beside the repository in shared/, from the main checkout or from a worktree one level deeper.)
SERVICENOW_EXPORT ?= $(firstword $(wildcard $(CURDIR)/../shared/data/external/servicenow_incident_log/incident_event_log.csv.gz \
                                           $(CURDIR)/../../shared/data/external/servicenow_incident_log/incident_event_log.csv.gz))
# The published KCS import-declaration extract (train = 2020, valid = 2021 Q1, test = 2021 Q2),
# beside the repository in shared/ (from the main checkout or from a worktree one level deeper).
KCS_EXTRACT_DIR ?= $(firstword $(wildcard $(CURDIR)/../shared/data/external/kcs_import_declarations \
                                          $(CURDIR)/../../shared/data/external/kcs_import_declarations))
KCS_DROPS := df_syn_train_eng.csv:20201231 df_syn_valid_eng.csv:20210331 df_syn_test_eng.csv:20210630

# Key of the keyed pseudonyms (ingest/pseudonymise.py): generated once by `make setup` into the
# Airflow home, outside the repository's files; a key already set in the environment wins.
PSEUDONYM_KEY_FILE := $(AIRFLOW_HOME)/pseudonym.key
ifeq ($(strip $(SWPM_PSEUDONYM_KEY)),)
export SWPM_PSEUDONYM_KEY = $(shell cat $(PSEUDONYM_KEY_FILE) 2>/dev/null)
endif

.PHONY: help setup demo demo-world airflow test test-airflow test-bench test-reliability lint chromium bench bench-smoke bench-demo clean clean-home
.PHONY: bi bi-install bi-bundle test-bi java test-spark bench-spark bench-flat bench-dbt-floor
help:
	@echo "make demo   run the nightly pipeline end to end on the sample world (Airflow DAG)"
	@echo "make airflow  a local Airflow (api-server, scheduler, dag-processor, triggerer) on the sample world; Ctrl-C stops it"
	@echo "make test   lint, then the test suite on every core"
	@echo "make test-airflow  the tests under the real Airflow scheduler (not part of make test)"
	@echo "make lint   ruff (lint, format check) and sqlfluff (the dbt SQL)"
	@echo "make test-reliability  kills, overlapping runs, rebuilds, a full disk (not part of make test)"
	@echo "make test-bench  the benchmark end to end at a tiny scale, no timings (not part of make test)"
	@echo "make bench  the performance benchmark (BENCH_SCALE=day|week|year|3y, default week; see docs/performance.md)"
	@echo "make bench-flat  flat in history: the nights at one and three years alternated (after the year and 3y runs)"
	@echo "make bench-dbt-floor  what dbt itself costs a night, beside the fixed-cost target's budget"
	@echo "make clean  remove the environment, Airflow home and sample home"
	@echo "make bi     Superset on 127.0.0.1:$(BI_PORT) with the dashboards, on $(SWPM_HOME)/serving (docs/bi.md)"
	@echo "make test-bi  the Superset tests (real server, chromium)"
	@echo "make test-spark  the dbt project on Apache Spark, its marts compared with DuckDB's (docs/spark.md)"

$(UV):
	@echo ">> bootstrapping uv $(UV_VERSION) into .tools/"
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# The project environment, exactly as locked in uv.lock.
$(BIN)/.synced: $(UV) pyproject.toml uv.lock
	@echo ">> installing the locked environment into .venv/"
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

$(AIRFLOW_HOME)/airflow.db: $(BIN)/.synced
	@echo ">> preparing the Airflow home in $(AIRFLOW_HOME) (SQLite metadata database)"
	@mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (tail -30 $(AIRFLOW_HOME)/db-migrate.log; exit 1)

$(PSEUDONYM_KEY_FILE):
	@echo ">> generating the pseudonymisation key into $@ (keep it: another key gives other pseudonyms)"
	@mkdir -p $(dir $@)
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@.part && mv $@.part $@

setup: $(BIN)/.synced $(AIRFLOW_HOME)/airflow.db $(PSEUDONYM_KEY_FILE)

# The sample world and the real exports in $(SWPM_HOME)/landing (files already there are kept).
demo-world: setup
	@echo ">> generating the sample world into $(SWPM_HOME)/landing"
	$(BIN)/swpm generate $(DEMO_GENERATE)
	@if [ -n "$(SERVICENOW_EXPORT)" ]; then $(BIN)/swpm land $(SERVICENOW_EXPORT) --as itsm_incidents_servicenow_20170215.csv.gz; \
	else echo ">> ServiceNow export not found (set SERVICENOW_EXPORT): the demo runs without it"; fi
	@if [ -n "$(KCS_EXTRACT_DIR)" ]; then \
	  echo ">> landing the KCS extract as three nightly drops"; \
	  for drop in $(KCS_DROPS); do \
	    $(BIN)/swpm land "$(KCS_EXTRACT_DIR)/$${drop%%:*}" --as "kcs_import_declarations_$${drop##*:}.csv" || exit 1; \
	  done; \
	else echo ">> KCS extract not found (set KCS_EXTRACT_DIR): the demo runs on the sample world only"; fi

demo: demo-world
	@echo ">> running the Airflow DAG swpm_nightly for $(DEMO_DATE) (log: $(SWPM_HOME)/airflow-dags-test.log)"
	@$(BIN)/airflow dags test swpm_nightly $(DEMO_DATE) > $(SWPM_HOME)/airflow-dags-test.log 2>&1 \
	  || (tail -40 $(SWPM_HOME)/airflow-dags-test.log; echo "airflow dags test failed, see $(SWPM_HOME)/airflow-dags-test.log"; exit 1)
	@$(BIN)/python -m ingest.serving.dagrun_summary $(SWPM_HOME)/airflow-dags-test.log
	@$(BIN)/swpm status
	@$(BIN)/swpm headline
	@$(BIN)/python -m ingest.serving.cs_summary
	@echo ""
	@echo "report:    $(SWPM_HOME)/serving/report/index.html (open it in a browser; no network needed)"
	@echo "snapshot:  $(SWPM_HOME)/serving/marts.duckdb (read-only; Parquet in $(SWPM_HOME)/serving/parquet/)"
	@echo "dbt docs:  $(SWPM_HOME)/serving/docs/dbt/index.html"
	@echo "GX docs:   $(SWPM_HOME)/serving/docs/gx/index.html"

# A local Airflow on 127.0.0.1 (ingest/local_airflow.py): api-server, scheduler, dag-processor and
# triggerer, LocalExecutor, SQLite, over the demo's sample world; prints the UI's address and
# login; Ctrl-C stops every component (docs/operations.md#the-scheduler).
AIRFLOW_PORT ?= 8080
airflow: demo-world
	$(BIN)/python -m ingest.local_airflow --port $(AIRFLOW_PORT)

# The report's browser tests (tests/test_report.py, tests/test_report_i18n.py) run Debian's
# chromium headless, the Korean page with a Hangul font (fonts-noto-cjk).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo ">> installing Debian chromium for the report's browser test"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get install -y chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }; }
	@[ -n "$$(fc-list :lang=ko 2>/dev/null)" ] || { \
	  echo ">> installing Debian fonts-noto-cjk for the Korean report's browser test"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get install -y fonts-noto-cjk || { $(SUDO) apt-get update && $(SUDO) apt-get install -y fonts-noto-cjk; }; }

# Lint: ruff for Python (lint and format check), sqlfluff for the dbt SQL (.sqlfluff).
lint: $(BIN)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint --processes 0 dbt_project

# The suite on every core (pytest-xdist; the tests of a module with a module-scoped fixture
# stay on one worker, so it is built once). TEST_ARGS='-m "not slow"' is the quick loop (markers: pyproject.toml).
TEST_WORKERS ?= auto
TEST_ARGS ?=
test: lint $(BIN)/.synced chromium
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup $(TEST_ARGS)

# Superset (docs/bi.md): its own locked environment (bi/superset/uv.lock) in bi/superset/.venv,
# its metadata (SQLite), secret key and admin password in .superset/; dashboards from bi/bundle/.
BI_VENV := $(CURDIR)/bi/superset/.venv
BI_HOME := $(CURDIR)/.superset
BI_PORT ?= 8088
BI_ADMIN ?= admin
BI_SNAPSHOT ?= $(SWPM_HOME)/serving/marts.duckdb
BI_ENV = SUPERSET_HOME=$(BI_HOME) SUPERSET_CONFIG_PATH=$(CURDIR)/bi/superset_config.py \
  SUPERSET_SECRET_KEY="$$(cat $(BI_HOME)/secret.key)" SUPERSET_ADMIN_PASSWORD="$$(cat $(BI_HOME)/admin.password)" \
  SWPM_SNAPSHOT=$(BI_SNAPSHOT) PYTHONWARNINGS=ignore

$(BI_VENV)/.synced: $(UV) bi/superset/pyproject.toml bi/superset/uv.lock
	@echo ">> installing the locked Superset environment into bi/superset/.venv/"
	UV_PROJECT_ENVIRONMENT=$(BI_VENV) $(UV) sync --frozen --no-dev --project bi/superset --python $(PYTHON)
	@touch $@

bi-install: $(BI_VENV)/.synced

$(BI_HOME)/secret.key:
	@mkdir -p $(BI_HOME)
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $(BI_HOME)/admin.password
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@.part && mv $@.part $@

bi: $(BI_VENV)/.synced $(BI_HOME)/secret.key
	@[ -f $(BI_SNAPSHOT) ] || echo ">> no snapshot at $(BI_SNAPSHOT) yet (make demo publishes one): the dashboards fill after the first publish"
	@echo ">> Superset: metadata, admin, the snapshot's database and datasets, the dashboards (log: $(BI_HOME)/bootstrap.log)"
	@$(BI_ENV) $(BI_VENV)/bin/python bi/bootstrap.py --init --snapshot $(BI_SNAPSHOT) --admin $(BI_ADMIN) \
	  > $(BI_HOME)/bootstrap.log 2>&1 || { tail -30 $(BI_HOME)/bootstrap.log; exit 1; }
	@grep '^bootstrap:' $(BI_HOME)/bootstrap.log | grep -v 'synced with' || true
	@echo ""
	@echo "Superset:  http://127.0.0.1:$(BI_PORT)/dashboard/list/   login: $(BI_ADMIN) / $$(cat $(BI_HOME)/admin.password)"
	@echo "           (Ctrl-C stops it; the password is in $(BI_HOME)/admin.password)"
	@$(BI_ENV) SUPERSET_BIND=127.0.0.1:$(BI_PORT) SUPERSET_ACCESS_LOG=$(BI_HOME)/access.log exec bash bi/serve.sh

# The import bundle bi/bundle/ from the dashboards as code (bi/dashboards.yml); commit both.
bi-bundle: $(BIN)/.synced
	$(BIN)/python -m bi.build_bundle

# The Superset tests (marker bi, tests/test_bi.py): one real server for the session.
test-bi: $(BIN)/.synced $(BI_VENV)/.synced chromium
	SWPM_SUPERSET_BIN=$(BI_VENV)/bin $(BIN)/python -m pytest -q -p no:cacheprovider -n 0 -m bi $(TEST_ARGS)

# The reliability suite (marker `reliability`: tests/test_reliability.py, tests/test_crash_recovery.py, tests/test_disk_full.py):
# the same data through other orders, kills, two runs at once, rebuilds, a real full disk. About
# 5 CPU minutes, so not part of `make test`; .ci/run runs it after.
test-reliability: $(BIN)/.synced
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup -m reliability tests/ $(TEST_ARGS)

# The benchmark's smoke run (marker `bench`: tests/test_bench_smoke.py): bench/run.py end to end
# at a tiny scale, every section run and its counts reconciled; no timings. Not part of `make test`.
test-bench: $(BIN)/.synced
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 0 -m bench tests/ $(TEST_ARGS)

# The tests under the real Airflow scheduler (marker `scheduler`; tests/test_scheduler*.py): one
# local deployment for the session, in a temporary home on a free port. Not part of `make test`.
test-airflow: $(BIN)/.synced
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 0 -m scheduler tests/ $(TEST_ARGS)

# The same dbt project on Apache Spark (docs/spark.md): pyspark and dbt-spark (dependency group
# `spark` of uv.lock) in their own environment .venv-spark, so `make test` never installs them;
# Java 17 from apt (openjdk-17-jre-headless) when there is none.
SPARK_VENV := $(CURDIR)/.venv-spark
$(SPARK_VENV)/.synced: $(UV) pyproject.toml uv.lock
	@echo ">> installing the locked environment with the spark group into .venv-spark/"
	UV_PROJECT_ENVIRONMENT=$(SPARK_VENV) $(UV) sync --frozen --group spark --python $(PYTHON)
	@touch $@

java:
	@command -v java >/dev/null 2>&1 || { \
	  echo ">> installing Debian openjdk-17-jre-headless (Spark runs on the JVM)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get install -y openjdk-17-jre-headless || { $(SUDO) apt-get update && $(SUDO) apt-get install -y openjdk-17-jre-headless; } \
	  || { echo "make: Spark needs Java 17: install openjdk-17-jre-headless (or set JAVA_HOME to a JDK 17), then run make test-spark again"; exit 1; }; }

# The Spark suite (marker `spark`, tests/test_spark.py): one Spark session (one JVM) for the
# suite. Not part of `make test`; .ci/run runs it after.
test-spark: $(SPARK_VENV)/.synced java
	$(SPARK_VENV)/bin/python -m pytest -q -p no:cacheprovider -n 0 -m spark tests/test_spark.py $(TEST_ARGS)

# The same small build timed on DuckDB and on Spark (bench/spark.py; not a test).
bench-spark: $(SPARK_VENV)/.synced java
	$(SPARK_VENV)/bin/python -m bench.spark $(BENCH_ARGS)

# The benchmark (docs/performance.md): generated data and homes in bench/work/, figures in
# bench/results/<scale>.json. Not part of `make test`; the test suite runs it at a tiny scale.
BENCH_SCALE ?= week
BENCH_ARGS ?=
bench: $(BIN)/.synced
	$(BIN)/python -m bench.run --scale $(BENCH_SCALE) $(BENCH_ARGS)

# Flat in history (bench/flat.py): the nights at one and three years of history alternated in one
# run, on the histories `make bench BENCH_SCALE=year` and `3y` (same BENCH_ARGS) kept in bench/work/.
bench-flat: $(BIN)/.synced
	$(BIN)/python -m bench.flat $(BENCH_ARGS)

# What dbt itself costs a night (bench/dbt_floor.py): the project's night with no new rows, and a
# select-1 project of as many nodes, in one warm process, beside the fixed-cost target's budget.
bench-dbt-floor: $(BIN)/.synced
	$(BIN)/python -m bench.dbt_floor $(BENCH_ARGS)

# The demo's time split by step (bench/demo.py): `make demo` into a fresh home, each part's and
# each DAG task's seconds; figures in bench/results/demo.json.
bench-demo: setup
	$(BIN)/python -m bench.demo

bench-smoke: $(BIN)/.synced
	$(BIN)/python -m bench.run --scale day --per-day 100 --repeats 1 --work bench/work/smoke --out bench/work/smoke/day.json

clean-home:
	rm -rf $(SWPM_HOME)

clean: clean-home
	rm -rf $(VENV) $(TOOLS) $(AIRFLOW_HOME) $(BI_VENV) $(BI_HOME) $(SPARK_VENV)
