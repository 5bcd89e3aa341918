"""The nightly run's steps after the load and its changes-pending gate, in order (build ->
freshness -> alerts -> check -> publish -> report): the one list
that both the Airflow DAG (one task per step) and ``swpm run`` follow. Names only, so the DAG
file imports it cheaply every time Airflow parses it; what each step does is
``ingest.run.pipeline.ACTIONS``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    name: str  # the DAG's task id and the run log's step
    publishes_marts: bool = False  # the step whose outlets are the marts' Airflow Assets


STEPS: tuple[Step, ...] = (
    Step("build"),
    Step("freshness"),
    Step("alerts"),
    Step("check"),
    Step("publish", publishes_marts=True),
    Step("report"),
)
STEP_NAMES = tuple(s.name for s in STEPS)

# The intraday TRS refresh (dags/swpm_intraday.py, ``swpm today``) after its load of the new
# clearance files: what each does is ``ingest.run.intraday.ACTIONS``.
INTRADAY_STEPS: tuple[Step, ...] = (
    Step("build_today"),
    Step("publish_today", publishes_marts=True),
)
INTRADAY_STEP_NAMES = tuple(s.name for s in INTRADAY_STEPS)
