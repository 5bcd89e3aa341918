"""A local SMTP sink for the alert tests (aiosmtpd): accepts every mail on 127.0.0.1:PORT and
writes each one, as received, to MAILDIR/<n>.eml; never relays anything.

    python -m tests.smtp_sink PORT MAILDIR

The fixture ``smtp_sink`` starts it in its own process group on a free port, waits (bounded)
until it accepts connections, and kills the group after the test; ``mail_env`` points
SWPM_ALERT_EMAILS and the Airflow connection smtp_default (AIRFLOW_CONN_SMTP_DEFAULT) at it."""

from __future__ import annotations

import email
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from email import policy
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
RECIPIENTS = ["ops@customs.example", "it-duty@customs.example"]
START_TIMEOUT_S = 20


class Maildir:
    """aiosmtpd handler: every message to its own file, whole (written beside, then renamed)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.numbers = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.numbers)
        part = self.folder / f".{n}.eml.part"
        part.write_bytes(envelope.original_content or envelope.content)
        part.rename(self.folder / f"{n:04d}.eml")
        return "250 Message accepted for delivery"


def main(port: int, folder: Path) -> None:
    from aiosmtpd.controller import Controller

    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(Maildir(folder), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    recipients = RECIPIENTS  # what mail_env sets SWPM_ALERT_EMAILS to

    def __init__(self, port: int, maildir: Path):
        self.port, self.maildir = port, maildir

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(self.maildir.glob("*.eml"))
        ]

    def connection(self, port: int | None = None) -> str:
        """The smtp_default connection to this sink (or to another port), as
        AIRFLOW_CONN_SMTP_DEFAULT takes it."""
        extra = {"disable_tls": True, "disable_ssl": True, "from_email": "swpm@customs.example", "timeout": 10}
        return json.dumps(
            {"conn_type": "smtp", "host": "127.0.0.1", "port": port or self.port, "extra": extra | {"retry_limit": 0}}
        )


def _kill_group(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:  # already gone
            break
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue
    proc.wait(timeout=10)


@pytest.fixture
def smtp_sink(tmp_path):
    port, maildir = free_port(), tmp_path / "mail"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.smtp_sink", str(port), str(maildir)],
        cwd=PROJECT,
        env=dict(os.environ, PYTHONPATH=str(PROJECT)),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"SMTP sink did not start: {proc.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.1)
        yield Sink(port, maildir)
    finally:
        _kill_group(proc)


@pytest.fixture
def mail_env(monkeypatch, smtp_sink):
    monkeypatch.setenv("SWPM_ALERT_EMAILS", ", ".join(RECIPIENTS))
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_sink.connection())
    monkeypatch.delenv("SWPM_ALERT_FROM", raising=False)
    return smtp_sink


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
