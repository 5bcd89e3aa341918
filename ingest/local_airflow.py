"""A local Airflow on 127.0.0.1: the api-server, scheduler, dag-processor and triggerer as separate
processes, LocalExecutor, the embedded SQLite metadata database. ``make airflow`` runs it in the
foreground (``python -m ingest.local_airflow``) until Ctrl-C; the scheduler tests start it in a
temporary home (tests/test_scheduler*.py).

The four components share one process group, so stopping them stops the task processes they
forked too (their children outlive a plain SIGTERM of the parent). Every wait is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ingest.run.schedule import WAREHOUSE_POOL, WAREHOUSE_POOL_DESCRIPTION

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
ADMIN_USER = "admin"
BIN = Path(sys.executable).parent
# SQLite lets one writer at a time: the components and the CLI (`airflow backfill create`) wait
# up to a minute for the lock (the driver's default, 5 s, fails as "database is locked" when the
# two cores are busy). Read by Airflow through [database] sql_alchemy_connect_args(_async).
SQLITE_CONNECT_ARGS = {"timeout": 60}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def airflow_env(airflow_home: Path, swpm_home: Path, port: int, dags_folder: Path, extra: dict | None = None) -> dict:
    """The environment of every component and CLI call of one local deployment."""
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(airflow_home),
        SWPM_HOME=str(swpm_home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags_folder),
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
        # Naive dates on the command line (airflow backfill create --from-date 2006-01-01) are
        # Seoul dates, as the DAGs' nights are.
        AIRFLOW__CORE__DEFAULT_TIMEZONE="Asia/Seoul",
        # Task processes reach the api-server's execution API here; it must match host and port.
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{port}/",
        # Two cores: a few task processes at a time (the warehouse pool lets one write anyway).
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS="ingest.local_airflow.SQLITE_CONNECT_ARGS",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC="ingest.local_airflow.SQLITE_CONNECT_ARGS",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{ADMIN_USER}:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(airflow_home / "passwords.json"),
        GX_ANALYTICS_ENABLED="False",
        DO_NOT_TRACK="1",
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    env.update(extra or {})
    return env


SQLITE_LOCKED = "database is locked"
CLI_TRIES = 4  # a command that lost SQLite's write lock to the scheduler is tried again


def run_cli(env: dict, *args: str, timeout: float = 300) -> str:
    """One ``airflow`` CLI command; its output, or an error with the output's tail.

    On SQLite a command's transaction can lose the write lock to the scheduler at once, whatever
    the busy timeout (a read upgraded to a write after another writer committed): the command
    rolled back, so it is run again, a bounded number of times."""
    deadline = time.monotonic() + timeout
    for attempt in range(1, CLI_TRIES + 1):
        left = max(deadline - time.monotonic(), 1)
        res = subprocess.run([str(BIN / "airflow"), *args], env=env, capture_output=True, text=True, timeout=left)
        if res.returncode == 0:
            return res.stdout
        output = res.stdout + res.stderr
        if SQLITE_LOCKED not in output or attempt == CLI_TRIES:
            break
        time.sleep(2 * attempt)
    raise RuntimeError(f"airflow {' '.join(args)} failed ({res.returncode}):\n{output[-3000:]}")


def prepare(env: dict) -> None:
    """The metadata database (migrated once) and the warehouse pool: one slot, shared by every
    task of the nightly and intraday DAGs that opens the warehouse, so two never write at once."""
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "airflow.db").exists():  # `make setup` migrated the demo's already
        run_cli(env, "db", "migrate", timeout=600)
    run_cli(env, "pools", "set", WAREHOUSE_POOL, "1", WAREHOUSE_POOL_DESCRIPTION)


@dataclass
class LocalAirflow:
    env: dict
    port: int
    log_dir: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    _token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def password(self) -> str | None:
        path = Path(self.env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
        with contextlib.suppress(OSError, ValueError):
            return json.loads(path.read_text()).get(ADMIN_USER)
        return None

    def start(self) -> LocalAirflow:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        group = 0  # the first component leads a new process group; the others join it
        for name in COMPONENTS:
            args = [str(BIN / "airflow"), name]
            if name == "api-server":
                args += ["--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
            elif name in ("scheduler", "triggerer"):
                args += ["--skip-serve-logs"]  # LocalExecutor: the api-server reads the log files itself
            with open(self.log_dir / f"{name}.log", "ab") as log:
                proc = subprocess.Popen(
                    args,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    process_group=group,
                )
            self.procs[name] = proc
            group = group or proc.pid
        return self

    @property
    def pgid(self) -> int | None:
        first = self.procs.get(COMPONENTS[0])
        return first.pid if first else None

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
        if dead:
            tails = {n: self.log_tail(n) for n in dead}
            raise RuntimeError(
                f"Airflow component(s) exited: {dead}\n" + "\n".join(f"--- {n}\n{t}" for n, t in tails.items())
            )

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def wait_ready(self, timeout: float = 240, dag_ids: tuple[str, ...] = ()) -> None:
        """Until the api-server answers, every component reports healthy, and the DAGs are parsed."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                health = self.request("GET", "/api/v2/monitor/health", auth=False)
                unhealthy = [k for k, v in health.items() if isinstance(v, dict) and v.get("status") != "healthy"]
                if not unhealthy:
                    missing = [d for d in dag_ids if not self._dag_parsed(d)]
                    if not missing:
                        return
                    last = f"DAGs not parsed yet: {missing}"
                else:
                    last = f"not healthy yet: {unhealthy}"
            except (OSError, urllib.error.URLError, ValueError) as exc:
                last = str(exc)
            time.sleep(1)
        raise TimeoutError(f"Airflow not ready after {timeout:.0f} s ({last})")

    def _dag_parsed(self, dag_id: str) -> bool:
        try:
            self.request("GET", f"/api/v2/dags/{dag_id}")
            return True
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return False
            raise

    def token(self) -> str:
        if self._token is None:
            body = self.request(
                "POST", "/auth/token", {"username": ADMIN_USER, "password": self.password or ""}, auth=False
            )
            self._token = body["access_token"]
        return self._token

    def request(self, method: str, path: str, body: dict | None = None, auth: bool = True, timeout: float = 30):
        """A REST call to the api-server; the decoded JSON answer."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read().decode()
        return json.loads(text) if text else None

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the process group (the components and the task processes they forked), then
        SIGKILL whatever is left after ``timeout`` seconds."""
        pgid = self.pgid
        if pgid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        # Task processes of the group may still be alive after the components exited.
        with contextlib.suppress(ProcessLookupError):
            while time.monotonic() < deadline:
                os.killpg(pgid, 0)
                time.sleep(0.2)
            os.killpg(pgid, signal.SIGKILL)
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        self.procs.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--airflow-home", type=Path, default=Path(os.environ.get("AIRFLOW_HOME", ".airflow")))
    parser.add_argument("--home", type=Path, default=None, help="the warehouse home (default: $SWPM_HOME, swpm_home/)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SWPM_AIRFLOW_PORT", "8080")))
    parser.add_argument("--dags", type=Path, default=Path(__file__).resolve().parent.parent / "dags")
    args = parser.parse_args(argv)

    from ingest.config import Home

    home = Home.resolve(args.home).ensure()
    airflow_home = args.airflow_home.resolve()
    env = airflow_env(airflow_home, home.root, args.port, args.dags.resolve())
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", args.port)) == 0:
            print(f"port {args.port} on 127.0.0.1 is taken; choose another with SWPM_AIRFLOW_PORT=...", file=sys.stderr)
            return 2
    print(f">> preparing the Airflow home {airflow_home} (SQLite metadata database, pool {WAREHOUSE_POOL})", flush=True)
    prepare(env)
    airflow = LocalAirflow(env, args.port, airflow_home / "logs" / "components")

    def on_term(signum, _frame):
        raise KeyboardInterrupt  # SIGTERM stops it as Ctrl-C does

    signal.signal(signal.SIGTERM, on_term)
    print(f">> starting {', '.join(COMPONENTS)} (logs in {airflow.log_dir})", flush=True)
    try:
        airflow.start()
        airflow.wait_ready(timeout=300, dag_ids=("swpm_nightly", "swpm_intraday"))
        print(
            f"\nAirflow is up: {airflow.url}  (login {ADMIN_USER} / {airflow.password}, "
            f"also in {env['AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE']})\n"
            f"warehouse home: {home.root}\n"
            f"trigger a night:  AIRFLOW_HOME={airflow_home} .venv/bin/airflow dags trigger swpm_nightly\n"
            "Ctrl-C stops every component.",
            flush=True,
        )
        while True:
            airflow.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, TimeoutError) as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        print(">> stopping the Airflow components", flush=True)
        airflow.stop()


if __name__ == "__main__":
    sys.exit(main())
