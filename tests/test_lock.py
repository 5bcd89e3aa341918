"""The home's writer lock (ingest/run/lock.py): a writer waits for another, bounded and logged,
and stops naming the holder; a killed holder frees it at once; discovery and the loader take a
file that another run moved away in their stride."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from ingest import cli
from ingest.landing import discover as discovery
from ingest.landing.load import load_file
from ingest.run import lock

HOLDER = r"""
import sys, time
from ingest.config import Home
from ingest.run.lock import home_lock
with home_lock(Home.resolve(sys.argv[1]), what="a test holder", trigger="cron", batch_id="cron_batch_1"):
    open(sys.argv[2], "w").write("held")
    time.sleep(600)
"""


@pytest.fixture
def held(home, tmp_path):
    """The home's writer lock held by another process."""
    marker = tmp_path / "held"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(home.root), str(marker)], start_new_session=True)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the holder never took the lock"
        time.sleep(0.05)
    yield proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def test_a_writer_waits_then_stops_with_a_message_naming_the_holder(home, held, capsys):
    started = time.monotonic()
    assert cli.main(["--home", str(home.root), "--lock-timeout", "1.5", "load"]) == 1
    waited = time.monotonic() - started
    captured = capsys.readouterr()
    assert "waiting for the writer lock" in captured.err and f"pid {held.pid}" in captured.err
    message = captured.err.strip().splitlines()[-1]
    assert message.startswith("swpm load: error:") and "busy" in message
    for words in (f"pid {held.pid}", "a test holder", "trigger cron", "batch cron_batch_1", "since", "within 1.5 s"):
        assert words in message, (words, message)
    assert waited >= 1.5
    # swpm status does not wait: it says who is writing.
    assert cli.main(["--home", str(home.root), "status"]) == 0
    assert f"writing now: pid {held.pid}" in capsys.readouterr().out


def test_a_holder_killed_by_sigkill_frees_the_lock_at_once(home, held):
    os.killpg(held.pid, signal.SIGKILL)
    held.wait(timeout=30)
    assert lock.current_holder(home) is None
    with lock.home_lock(home, what="after the kill", timeout=0):
        assert lock.current_holder(home).what == "after the kill"
    assert lock.current_holder(home) is None


def test_the_lock_is_reentrant_in_a_thread_and_exclusive_between_threads(home):
    errors = []

    def other():
        try:
            with lock.home_lock(home, timeout=0.3, log=lambda *_: None):
                pass
        except lock.HomeBusy as exc:
            errors.append(exc)

    with lock.home_lock(home, what="outer"):
        with lock.home_lock(home, what="inner"):  # no wait, no deadlock
            assert lock.current_holder(home).what == "outer"
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=30)
    assert len(errors) == 1 and errors[0].holder.what == "outer"


def test_the_timeout_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(lock.ENV_TIMEOUT, "12")
    assert lock.configured_timeout() == 12
    monkeypatch.setenv(lock.ENV_TIMEOUT, "soon")
    with pytest.raises(ValueError, match=lock.ENV_TIMEOUT):
        lock.configured_timeout()
    monkeypatch.delenv(lock.ENV_TIMEOUT)
    assert lock.configured_timeout() == lock.DEFAULT_TIMEOUT_SECONDS


def test_discovery_skips_a_file_moved_away_while_it_looks(home, sample_landing, monkeypatch):
    """The reported crash: another run quarantined a file between this run's listing and its
    hashing ([Errno 2] No such file)."""
    for f in sorted(sample_landing.glob("clearance_*_2006010[12].csv.gz")):
        (home.landing / f.name).write_bytes(f.read_bytes())
    names = sorted(p.name for p in home.landing.iterdir())
    real = discovery.sha256_of

    def moved_by_another_run(path):
        if path.name == names[0]:
            path.unlink()
        return real(path)

    monkeypatch.setattr(discovery, "sha256_of", moved_by_another_run)
    assert sorted(p.name for p in discovery.discover(home)) == names[1:]


def test_loading_a_file_another_run_took_records_nothing(home):
    gone = home.landing / "clearance_declarations_20060101.csv.gz"
    outcome = load_file(home, gone, "b1")
    assert outcome.status == "skipped" and "another run" in outcome.message
    assert not home.warehouse.exists(), "nothing was written for it"
