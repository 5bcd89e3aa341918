"""A real Superset for the bi tests: installed from bi/superset/uv.lock (`make test-bi` installs
it; SWPM_SUPERSET_BIN names its bin/), initialised by bi/bootstrap.py --init in a temporary home,
served by bi/serve.sh on a free 127.0.0.1 port in its own process group, stopped after. Every
wait is bounded."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.conftest import PROJECT

BI = PROJECT / "bi"
INIT_TIMEOUT = 600
START_TIMEOUT = 180
REQUEST_TIMEOUT = 120


def superset_bin() -> Path:
    chosen = os.environ.get("SWPM_SUPERSET_BIN")
    path = Path(chosen) if chosen else BI / "superset" / ".venv" / "bin"
    assert (path / "gunicorn").exists(), f"Superset is not installed in {path}: run `make bi-install` (or make test-bi)"
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Superset:
    url: str
    admin: str
    password: str
    home: Path
    env: dict
    proc: subprocess.Popen | None = None
    api: requests.Session = field(default_factory=requests.Session)

    # -- the REST API, logged in as the admin -------------------------------------------------
    def login(self) -> None:
        token = self.post(
            "/api/v1/security/login", auth=False, username=self.admin, password=self.password, provider="db"
        )
        self.api.headers["Authorization"] = f"Bearer {token['access_token']}"
        csrf = self.get("/api/v1/security/csrf_token/")["result"]
        self.api.headers.update({"X-CSRFToken": csrf, "Referer": self.url})

    def get(self, path: str, **params) -> dict:
        resp = self.api.get(self.url + path, params=params or None, timeout=REQUEST_TIMEOUT)
        assert resp.status_code == 200, f"GET {path}: {resp.status_code} {resp.text[:1000]}"
        return resp.json()

    def post(self, path: str, auth: bool = True, expect: int | None = 200, **body) -> dict:
        resp = (self.api if auth else requests).post(self.url + path, json=body, timeout=REQUEST_TIMEOUT)
        if expect is not None:
            assert resp.status_code == expect, f"POST {path}: {resp.status_code} {resp.text[:2000]}"
        return resp.json() | {"_status": resp.status_code}

    def put(self, path: str, **body) -> dict:
        resp = self.api.put(self.url + path, json=body, timeout=REQUEST_TIMEOUT)
        assert resp.status_code == 200, f"PUT {path}: {resp.status_code} {resp.text[:1000]}"
        return resp.json()

    def listing(self, what: str) -> list[dict]:
        return self.get(f"/api/v1/{what}/", q=json.dumps({"page_size": 100}))["result"]

    def browser_cookies(self) -> list[dict]:
        """A logged-in browser session (the login form, as a person would)."""
        session = requests.Session()
        page = session.get(self.url + "/login/", timeout=REQUEST_TIMEOUT).text
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page
        )
        assert csrf, "no csrf_token on Superset's login page"
        resp = session.post(
            self.url + "/login/",
            data={"username": self.admin, "password": self.password, "csrf_token": csrf.group(1)},
            timeout=REQUEST_TIMEOUT,
            allow_redirects=False,
        )
        assert resp.status_code == 302 and "session" in session.cookies, resp.text[:500]
        return [{"name": c.name, "value": c.value, "domain": "127.0.0.1", "path": "/"} for c in session.cookies]

    # -- the process --------------------------------------------------------------------------
    def log_tail(self, name: str = "server.log", n: int = 4000) -> str:
        path = self.home / name
        return path.read_text(errors="replace")[-n:] if path.exists() else ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


def start(home: Path, snapshot: Path) -> Superset:
    """Initialise a Superset home for the snapshot and serve it; the caller stops it."""
    home.mkdir(parents=True, exist_ok=True)
    bin_dir = superset_bin()
    password = secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH", "UV_"))}
    env.update(
        SUPERSET_HOME=str(home),
        SUPERSET_CONFIG_PATH=str(BI / "superset_config.py"),
        SUPERSET_SECRET_KEY=secrets.token_hex(32),
        SUPERSET_ADMIN_PASSWORD=password,
        SUPERSET_BIN=str(bin_dir),
        SWPM_SNAPSHOT=str(snapshot),
        PYTHONWARNINGS="ignore",
    )
    started = time.monotonic()
    with open(home / "bootstrap.log", "w") as log:
        res = subprocess.run(
            [
                str(bin_dir / "python"),
                str(BI / "bootstrap.py"),
                "--init",
                "--snapshot",
                str(snapshot),
                "--admin",
                "admin",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=INIT_TIMEOUT,
            cwd=home,
        )
    server = Superset(url="", admin="admin", password=password, home=home, env=env)
    assert res.returncode == 0, server.log_tail("bootstrap.log")
    init_seconds = time.monotonic() - started
    port = free_port()
    server.url = f"http://127.0.0.1:{port}"
    env.update(SUPERSET_BIND=f"127.0.0.1:{port}", SUPERSET_WORKERS="2")
    started = time.monotonic()
    with open(home / "server.log", "w") as log:
        server.proc = subprocess.Popen(
            ["bash", str(BI / "serve.sh")],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=home,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert server.proc.poll() is None, "Superset exited:\n" + server.log_tail()
            assert time.monotonic() < deadline, (
                f"Superset did not answer within {START_TIMEOUT} s:\n" + server.log_tail()
            )
            with contextlib.suppress(requests.RequestException):
                if requests.get(server.url + "/health", timeout=5).status_code == 200:
                    break
            time.sleep(0.5)
        server.login()
    except BaseException:
        server.stop()
        raise
    print(
        f"\nSuperset: init {init_seconds:.0f} s, answering {time.monotonic() - started:.0f} s after start, {server.url}"
    )
    return server
