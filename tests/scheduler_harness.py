"""The real Airflow scheduler for the `scheduler` suite (tests/test_scheduler*.py): one local
deployment (ingest.local_airflow: api-server, scheduler, dag-processor, triggerer, LocalExecutor,
SQLite) in a temporary home on a free port, shared by the session, and the REST calls the tests
make of it. Every wait is bounded; the deployment's process group is killed after the session.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

from ingest import local_airflow
from ingest.config import Home

RUN_TIMEOUT = 900  # seconds a DAG run may take here (2 shared cores; a night is about a minute idle)
FINISHED = ("success", "failed")


def far_cron(now: dt.datetime) -> str:
    """A daily cron (in the DAGs' time zone, Korea) 12 hours away from ``now``: no scheduled run
    falls inside the session but the one a first unpause makes (for 12 hours ago)."""
    from zoneinfo import ZoneInfo

    from ingest.run.schedule import LOCAL_TZ

    at = now.astimezone(ZoneInfo(LOCAL_TZ)) + dt.timedelta(hours=12)
    return f"{at.minute} {at.hour} * * *"


@dataclass
class Scheduler:
    airflow: local_airflow.LocalAirflow
    home: Home
    fail_once_file: Path
    schedule: str  # both DAGs' cron in this deployment (far_cron)

    @property
    def env(self) -> dict:
        return self.airflow.env

    def api(self, method: str, path: str, body: dict | None = None):
        self.airflow.check_alive()
        return self.airflow.request(method, path, body)

    def cli(self, *args: str, timeout: float = 300) -> str:
        return local_airflow.run_cli(self.env, *args, timeout=timeout)

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": paused})

    def dag(self, dag_id: str) -> dict:
        return self.api("GET", f"/api/v2/dags/{dag_id}")

    def trigger(self, dag_id: str, run_id: str, logical_date: str) -> dict:
        return self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"dag_run_id": run_id, "logical_date": logical_date})

    def runs(self, dag_id: str) -> list[dict]:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100&order_by=logical_date")["dag_runs"]

    def run(self, dag_id: str, run_id: str) -> dict:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")

    def wait_run(self, dag_id: str, run_id: str, timeout: float = RUN_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.run(dag_id, run_id)
            if run["state"] in FINISHED:
                return run
            time.sleep(2)
        raise TimeoutError(f"{dag_id} run {run_id} not finished after {timeout:.0f} s: {self.describe(dag_id, run_id)}")

    def wait_until(self, what: str, condition, timeout: float = 120, every: float = 1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(every)
        raise TimeoutError(f"{what}: not so after {timeout:.0f} s")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=200"
        return self.api("GET", path)["task_instances"]

    def tries(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[dict]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/tries"
        if map_index < 0:
            path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/tries"
        return self.api("GET", path)["task_instances"]

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1):
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}?map_index={map_index}&deserialize=true"
        return self.api("GET", path)["value"]

    def asset_events(self, dag_id: str, run_id: str) -> list[dict]:
        events = self.api("GET", f"/api/v2/assets/events?source_dag_id={dag_id}&source_run_id={run_id}&limit=500")
        return events["asset_events"]

    def describe(self, dag_id: str, run_id: str) -> str:
        """A run's task states, for a failing assertion's message."""
        try:
            tis = self.task_instances(dag_id, run_id)
        except Exception as exc:  # the message must not hide the original failure
            return f"(task instances unavailable: {exc})"
        lines = [f"{t['task_id']}[{t['map_index']}] {t['state']} try {t['try_number']}" for t in tis]
        return "; ".join(lines) + "\n--- scheduler log\n" + self.airflow.log_tail("scheduler")

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1, map_index: int = -1) -> str:
        logs = Path(self.env["AIRFLOW_HOME"]) / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        if map_index >= 0:
            logs = logs / f"map_index={map_index}"
        path = logs / f"attempt={try_number}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def start(base: Path, extra_env: dict | None = None) -> Scheduler:
    """Prepare (migrate, pool) and start a deployment under ``base``; ready when it returns."""
    home = Home.resolve(base / "home").ensure()
    port = local_airflow.free_port()
    schedule = far_cron(dt.datetime.now(dt.UTC))
    fail_once = base / "fail-once"
    env = local_airflow.airflow_env(
        base / "airflow",
        home.root,
        port,
        Path(__file__).resolve().parent.parent / "dags",
        {
            "SWPM_NIGHTLY_SCHEDULE": schedule,
            "SWPM_INTRADAY_SCHEDULE": schedule,
            "SWPM_TASK_RETRIES": "1",
            "SWPM_RETRY_DELAY_SECONDS": "2",
            "SWPM_FAIL_ONCE_FILE": str(fail_once),
            "SWPM_DBT_THREADS": "1",
            **(extra_env or {}),
        },
    )
    local_airflow.prepare(env)
    airflow = local_airflow.LocalAirflow(env, port, base / "component-logs").start()
    try:
        airflow.wait_ready(timeout=600, dag_ids=("swpm_nightly", "swpm_intraday"))
    except BaseException:
        airflow.stop()
        raise
    return Scheduler(airflow, home, fail_once, schedule)
