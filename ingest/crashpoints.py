"""Test hooks at named points of the pipeline: stop there (so a crash test's SIGKILL lands
there), or fail there once (so a scheduler test sees a task retried).

With ``SWPM_PAUSE_AT=<point>`` in the environment, :func:`reached` writes the point's name to
the file ``SWPM_PAUSE_FILE`` (if set) and then sleeps until the process is killed. Unset (the
normal case) it does nothing. Points: ``load:before_commit`` (rows inserted, file archived,
transaction open), ``quarantine:after_copy`` (a bad file copied into quarantine/ with its
reason, nothing recorded), ``quarantine:before_unlink`` (its quarantine recorded, the landing
copy not yet removed), ``build:after_first_model`` (dbt has committed one model and is running
the rest), ``publish:before_swap`` (new snapshot written, nothing renamed), ``publish:mid_swap``
(the DuckDB snapshot renamed into place, the Parquet link and snapshot.json not yet).

With ``SWPM_FAIL_ONCE_FILE=<path>``, a process that reaches the point named in that file
deletes the file and raises :class:`InjectedFailure`: the first to get there fails, every later
one goes on (tests/test_scheduler.py arms it while the scheduler runs).
"""

from __future__ import annotations

import os
import time

ENV_POINT = "SWPM_PAUSE_AT"
ENV_FILE = "SWPM_PAUSE_FILE"
ENV_FAIL_ONCE = "SWPM_FAIL_ONCE_FILE"


class InjectedFailure(RuntimeError):
    """The failure a test asked for at a crash point (SWPM_FAIL_ONCE_FILE)."""


def _fail_once(point: str) -> None:
    path = os.environ.get(ENV_FAIL_ONCE)
    if not path:
        return
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.read().strip() != point:
                return
        os.unlink(path)  # only one process can delete it: that one fails
    except FileNotFoundError:
        return
    raise InjectedFailure(f"injected failure at {point} ({ENV_FAIL_ONCE}); the next try goes on")


def reached(point: str) -> None:
    _fail_once(point)
    if os.environ.get(ENV_POINT) != point:
        return
    marker = os.environ.get(ENV_FILE)
    if marker:
        with open(marker, "w", encoding="utf-8") as fh:
            fh.write(point)
    while True:  # wait for the test's SIGKILL
        time.sleep(60)


def dbt_callbacks() -> list:
    """dbt event callbacks: pause after the first model of a build has finished."""
    if os.environ.get(ENV_POINT) != "build:after_first_model":
        return []

    def on_event(event) -> None:
        if event.info.name == "LogModelResult":
            reached("build:after_first_model")

    return [on_event]
