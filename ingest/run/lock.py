"""The home's writer lock: one writer of a home's warehouse at a time, across processes.

Every writer holds it for its whole work: ``swpm run`` and ``pipeline.run`` for the whole run,
each step of the nightly DAG, the load of each file, dbt, publish, ``swpm rebuild``. Two runs
that overlap on one home (a cron run and a manual one, the nightly and the intraday DAG) thus
take turns: the second waits, a bounded and logged wait, and then finds the files the first
one loaded already recorded; or it stops with a message naming the holder. Readers of the
published snapshot never take it, so they are never blocked.

    from ingest.run.lock import home_lock

    with home_lock(home, what="intraday load", trigger="airflow"):
        ...  # load, build, publish

Re-entrant within a thread: a run that holds the lock calls load, dbt and publish, which take
it again without waiting. The lock is an ``flock`` on ``warehouse/.run.lock``: the kernel
releases it when its process dies, even by SIGKILL, so a dead holder never blocks the next run.
The holder (pid, host, what, trigger, batch, start time) is written into the lock file for the
messages of those who wait.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

from ingest.config import Home

ENV_TIMEOUT = "SWPM_LOCK_TIMEOUT"
DEFAULT_TIMEOUT_SECONDS = 1800.0  # longer than a night's run; a cron run queued behind it still starts
POLL_SECONDS = 0.2
LOG_EVERY_SECONDS = 30.0

_logger = logging.getLogger("swpm.lock")
_held: dict[tuple[str, int], int] = {}  # (lock file, thread) -> depth, for re-entry
_held_guard = threading.Lock()


class HomeBusy(RuntimeError):
    """Another writer held the home's lock for longer than the timeout."""

    def __init__(self, message: str, holder: Holder | None):
        super().__init__(message)
        self.holder = holder


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    what: str
    trigger: str
    batch_id: str | None
    started_at: str

    def describe(self) -> str:
        alive = ""
        if self.host == socket.gethostname() and not _pid_alive(self.pid):
            alive = ", no longer running"
        batch = f", batch {self.batch_id}" if self.batch_id else ""
        return (
            f"pid {self.pid} on {self.host} ({self.what}, trigger {self.trigger}{batch}, "
            f"holding it since {self.started_at}{alive})"
        )


def lock_path(home: Home):
    return home.warehouse_dir / ".run.lock"


def configured_timeout() -> float:
    """Seconds to wait for the lock: $SWPM_LOCK_TIMEOUT, else 30 minutes; 0 stops at once."""
    text = os.environ.get(ENV_TIMEOUT, "").strip()
    if not text:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{ENV_TIMEOUT} must be a number of seconds, not {text!r}") from None
    if value < 0:
        raise ValueError(f"{ENV_TIMEOUT} must be 0 or more seconds, not {text!r}")
    return value


def current_holder(home: Home) -> Holder | None:
    """Who holds the lock now, as its holder wrote it (None when nobody holds it). A holder
    killed by SIGKILL leaves its record behind but not the lock: it is reported only while its
    process lives (on this host)."""
    holder = _read_holder(lock_path(home))
    if holder and holder.host == socket.gethostname() and not _pid_alive(holder.pid):
        return None
    return holder


@contextlib.contextmanager
def home_lock(
    home: Home,
    what: str = "swpm",
    trigger: str = "cli",
    batch_id: str | None = None,
    timeout: float | None = None,
    log: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the home's writer lock for the block: wait for it up to ``timeout`` seconds (default
    $SWPM_LOCK_TIMEOUT, else 30 minutes), saying whom it waits for; raise :class:`HomeBusy`
    naming the holder when the wait is over."""
    path = lock_path(home)
    key = (str(path), threading.get_ident())
    with _held_guard:
        depth = _held.get(key, 0)
        if depth:
            _held[key] = depth + 1
    if depth:
        try:
            yield
        finally:
            with _held_guard:
                _held[key] -= 1
        return
    say = log or _logger.warning
    limit = configured_timeout() if timeout is None else timeout
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(fd, home, limit, say)
        me = Holder(
            os.getpid(),
            socket.gethostname(),
            what,
            trigger,
            batch_id,
            dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(asdict(me)).encode(), 0)
        with _held_guard:
            _held[key] = 1
        try:
            yield
        finally:
            with _held_guard:
                _held.pop(key, None)
            os.ftruncate(fd, 0)  # nobody holds it any more
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, home: Home, limit: float, say: Callable[[str], None]) -> None:
    started = time.monotonic()
    last_said = None
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if last_said is not None:
                say(f"swpm: got the writer lock of {home.root} after {time.monotonic() - started:.0f} s")
            return
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
        waited = time.monotonic() - started
        holder = _read_holder(lock_path(home))
        who = holder.describe() if holder else "another process (it has not said who yet)"
        if waited >= limit:
            raise HomeBusy(
                f"{home.root} is busy: {who} holds its writer lock, and it was not released within "
                f"{limit:g} s. Let that run finish (`swpm status` shows it) or stop it; raise "
                f"{ENV_TIMEOUT} (or --lock-timeout) to wait longer.",
                holder,
            )
        if last_said is None or waited - last_said >= LOG_EVERY_SECONDS:
            say(
                f"swpm: waiting for the writer lock of {home.root}, held by {who}; "
                f"waited {waited:.0f} s of at most {limit:g} s ({ENV_TIMEOUT})"
            )
            last_said = waited
        time.sleep(min(POLL_SECONDS, max(limit - waited, 0.01)))


def _read_holder(path) -> Holder | None:
    try:
        text = path.read_text(encoding="utf-8")
        return Holder(**json.loads(text)) if text.strip() else None
    except (OSError, ValueError, TypeError):
        return None  # no lock file yet, or a holder still writing its record


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
