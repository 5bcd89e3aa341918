"""Great Expectations, used on pandas batches (GX's SQL datasource is broken on DuckDB).

The shared pieces: suites from expectation configurations, validation of a frame, failures
with example values and line numbers. The door (``ingest.landing.checks``) validates every
delivered file in an ephemeral context; the mart checks (``ingest.run.mart_checks``) run a
file-backed checkpoint with Data Docs.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import great_expectations as gx
from great_expectations.expectations.expectation_configuration import (
    ExpectationConfiguration,
)
from great_expectations.validator.v1_validator import Validator

logging.getLogger("great_expectations").setLevel(logging.WARNING)


@dataclass
class Failure:
    expectation: str
    column: str | None
    unexpected_count: int | None
    examples: list
    lines: list
    detail: str = ""


def build_suite(name: str, configs: list[dict]) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=name)
    for cfg in configs:
        suite.add_expectation_configuration(ExpectationConfiguration(type=cfg["type"], kwargs=cfg["kwargs"]))
    return suite


def quiet(context) -> None:
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}


@functools.cache
def _door_batch_definition():
    context = gx.get_context(mode="ephemeral")
    quiet(context)
    asset = context.data_sources.add_pandas("landing").add_dataframe_asset("delivered_file")
    return asset.add_batch_definition_whole_dataframe("whole_file")


def warm_up() -> None:
    """Pay the door's fixed cost now (Great Expectations imported with this module, its
    ephemeral context and datasource), once per process, before the first file."""
    _door_batch_definition()


def failures_of(result, line_offset: int = 2) -> list[Failure]:
    """Failed expectations of a validation result, with example values and file line numbers
    (``line_offset`` turns a 0-based data-frame index into a line of the file: header + 1)."""
    out = []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        res = r.result or {}
        lines = [i + line_offset for i in (res.get("partial_unexpected_index_list") or []) if isinstance(i, int)]
        detail = ""
        if r.exception_info and r.exception_info.get("raised_exception"):
            detail = str(r.exception_info.get("exception_message", ""))[:300]
        elif "observed_value" in res:
            detail = f"observed {res['observed_value']!r}"
        out.append(
            Failure(
                expectation=cfg.type,
                column=cfg.kwargs.get("column"),
                unexpected_count=res.get("unexpected_count"),
                examples=list(res.get("partial_unexpected_list") or [])[:5],
                lines=lines[:5],
                detail=detail,
            )
        )
    return out


def validate_frame(df, suite: gx.ExpectationSuite) -> list[Failure]:
    """Run ``suite`` over a pandas frame; the failures, empty when the frame passes."""
    # GX's own validator, as ValidationDefinition.run uses it, without storing results.
    # (batch.validate would load the frame twice: get_batch, then its validator gets the batch
    # again, and each load fingerprints the whole frame.)
    validator = Validator(
        batch_definition=_door_batch_definition(),
        batch_parameters={"dataframe": df},
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
    )
    return failures_of(validator.validate_expectation_suite(suite))
