"""When the DAGs run, and what they share: read by the DAG files at every parse, so standard
library only. Each setting comes from the environment, with the default documented in
docs/operations.md#the-scheduler.

Catch-up policy: ``catchup=False`` with a fixed start date. A new deployment, unpaused, gets one
run for the most recent midnight (Asia/Seoul) and then one a night; earlier nights run only when
asked for (``airflow backfill create``). A night takes every new file dated on or before it, so
that one run already loads the whole backlog: catch-up runs would only cost time.
"""

from __future__ import annotations

import datetime as dt
import os

LOCAL_TZ = "Asia/Seoul"
# The earliest night a run may be made for: Airflow creates no task for a run dated before its
# DAG's start date (a backfill aside), so it is the first day the clearance system could have
# logged (dbt var system_start_date), not the go-live date. With catch-up off an early start
# date never floods the scheduler.
START_DATE = os.environ.get("SWPM_START_DATE", "2000-01-01")
NIGHTLY_SCHEDULE = os.environ.get("SWPM_NIGHTLY_SCHEDULE", "@daily")
# The intraday TRS refresh (dags/swpm_intraday.py): every hour by default; any cron or preset.
INTRADAY_SCHEDULE = os.environ.get("SWPM_INTRADAY_SCHEDULE", "@hourly")
CATCHUP = False

# Every task that opens the warehouse takes this pool's one slot: DuckDB has one writer, and a
# writer shuts out readers of the file, so the nightly and intraday runs take turns.
WAREHOUSE_POOL = "swpm_warehouse"
WAREHOUSE_POOL_DESCRIPTION = "swpm: one task at a time opens the DuckDB warehouse (nightly and intraday)"

RETRIES = int(os.environ.get("SWPM_TASK_RETRIES", "2"))
RETRY_DELAY = dt.timedelta(seconds=float(os.environ.get("SWPM_RETRY_DELAY_SECONDS", "300")))
