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

# The demo's sample world: 2006 (Single Window launch) to 2018, the first day of every third
# month, 1,500 declarations a day (52 nightly drops, 104 files).
DEMO_GENERATE := --start 2006-01-01 --days 4748 --days-per-month 1 --month-step 3 \
                 --declarations-per-day 1500 --seed 20060101
DEMO_DATE ?= $(shell date +%Y-%m-%d)

.PHONY: help setup demo test bench bench-smoke clean clean-home
help:
	@echo "make demo   run the nightly pipeline end to end on the sample world (Airflow DAG)"
	@echo "make test   run the test suite"
	@echo "make bench  the performance benchmark (BENCH_SCALE=day|week|year, default week; see README)"
	@echo "make clean  remove the environment, Airflow home and sample home"

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

setup: $(BIN)/.synced $(AIRFLOW_HOME)/airflow.db

demo: setup
	@echo ">> generating the sample world into $(SWPM_HOME)/landing"
	$(BIN)/swpm generate $(DEMO_GENERATE)
	@echo ">> running the Airflow DAG swpm_nightly for $(DEMO_DATE) (log: $(SWPM_HOME)/airflow-dags-test.log)"
	@$(BIN)/airflow dags test swpm_nightly $(DEMO_DATE) > $(SWPM_HOME)/airflow-dags-test.log 2>&1 \
	  || (tail -40 $(SWPM_HOME)/airflow-dags-test.log; echo "airflow dags test failed, see $(SWPM_HOME)/airflow-dags-test.log"; exit 1)
	@$(BIN)/python -m ingest.dagrun_summary $(SWPM_HOME)/airflow-dags-test.log
	@$(BIN)/swpm status
	@$(BIN)/swpm headline

test: $(BIN)/.synced
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The benchmark (README, "Performance"): generated data and homes in bench/work/, figures in
# bench/results/<scale>.json. Not part of `make test`; the test suite runs it at a tiny scale.
BENCH_SCALE ?= week
BENCH_ARGS ?=
bench: $(BIN)/.synced
	$(BIN)/python -m bench.run --scale $(BENCH_SCALE) $(BENCH_ARGS)

bench-smoke: $(BIN)/.synced
	$(BIN)/python -m bench.run --scale day --per-day 100 --repeats 1 --work bench/work/smoke --out bench/work/smoke/day.json

clean-home:
	rm -rf $(SWPM_HOME)

clean: clean-home
	rm -rf $(VENV) $(TOOLS) $(AIRFLOW_HOME)
