"""Great Expectations, used on pandas batches (GX's SQL datasource is broken on DuckDB).

The shared pieces: suites of GX's typed expectations built from ``{type, kwargs}`` entries (the
landing contracts, expectations/marts/*.yml), validation of a frame, failures with example values
and line numbers. The door (``ingest.landing.checks``) validates every
delivered file in an ephemeral context; the mart checks (``ingest.run.mart_checks``) run a
file-backed checkpoint with Data Docs.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass

import great_expectations as gx
import pandas as pd
from great_expectations.compatibility import pydantic
from great_expectations.exceptions import ExpectationNotFoundError
from great_expectations.execution_engine import pandas_execution_engine
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.expectation_configuration import (
    ExpectationConfiguration,
)
from great_expectations.expectations.registry import get_expectation_impl
from great_expectations.validator.v1_validator import Validator

logging.getLogger("great_expectations").setLevel(logging.WARNING)

# GX marks each pandas batch with an MD5 of the whole frame (``pandas_data_fingerprint``) when
# the frame is under this many bytes, and skips it above. Nothing here reads that marker (a
# delivered file is identified by its sha256 in the manifest, a mart by its snapshot), and it
# cost more than all the door's expectations together: 0.54 of 0.92 s on a real day's events
# file. So no frame gets it; the expectations themselves run as before.
pandas_execution_engine.HASH_THRESHOLD = 0


@dataclass
class Failure:
    expectation: str
    column: str | None
    unexpected_count: int | None
    examples: list
    lines: list
    detail: str = ""


class UnknownExpectation(ValueError):
    pass


@functools.cache
def expectation_classes() -> dict[str, type[Expectation]]:
    """GX's typed expectation classes by their type name: ``expect_column_values_to_not_be_null``
    -> ``gx.expectations.ExpectColumnValuesToNotBeNull``."""
    classes = (getattr(gx.expectations, n) for n in dir(gx.expectations))
    return {
        cls.expectation_type: cls
        for cls in classes
        if isinstance(cls, type) and issubclass(cls, Expectation) and cls.expectation_type
    }


def build_expectation(cfg: dict, suite: str = "") -> Expectation:
    """One expectation from ``{type, kwargs}``: GX's typed class for the type (its fields are
    validated here, not at the first validation), or, for a type GX registers without a class in
    ``gx.expectations`` (a plugin's), its configuration. An unknown type is an error."""
    kind, kwargs = cfg["type"], cfg.get("kwargs") or {}
    where = f"suite {suite!r}: " if suite else ""
    cls = expectation_classes().get(kind)
    if cls is None:
        try:
            get_expectation_impl(kind)
        except ExpectationNotFoundError:
            raise UnknownExpectation(
                f"{where}unknown expectation type {kind!r}: Great Expectations has no such expectation "
                "(names are snake_case, e.g. expect_column_values_to_not_be_null)"
            ) from None
        return ExpectationConfiguration(type=kind, kwargs=kwargs).to_domain_obj()
    try:
        return cls(**kwargs)
    except pydantic.ValidationError as exc:
        raise ValueError(f"{where}{kind} {kwargs}: {exc}") from exc


def build_suite(name: str, configs: list[dict]) -> gx.ExpectationSuite:
    """A suite of the typed expectations of ``configs`` (entries ``{type, kwargs}``), in order."""
    return gx.ExpectationSuite(name=name, expectations=[build_expectation(cfg, name) for cfg in configs])


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


# pandas options are global to the process: one validation at a time sets and restores them.
_ARROW_STRINGS = threading.Lock()


# A frame that passes needs only each expectation's verdict. The examples and lines of a failure
# (GX's SUMMARY) cost, per column expectation, a filtered copy of the frame for the unexpected
# values, another for their index and a count of them, even when there are none: so every
# expectation first runs for its verdict alone, and only the ones that failed run again for
# their details. The mart checks keep WITH_EXAMPLES for every result (their Data Docs show it).
VERDICT_ONLY = {"result_format": "BOOLEAN_ONLY"}
WITH_EXAMPLES = {"result_format": "SUMMARY", "partial_unexpected_count": 5}


def validate_frame(df, suite: gx.ExpectationSuite) -> list[Failure]:
    """Run ``suite`` over a pandas frame; the failures, empty when the frame passes.

    Validated with pandas' Arrow strings (``future.infer_string``): GX's pattern check,
    ``astype(str).str.contains``, then matches with Arrow's vectorised RE2, a third of the
    time of Python's ``re`` called once per cell. RE2 is the stricter of the two here (``\\d``
    is an ASCII digit, ``$`` the end of the value, not before a trailing newline), and the
    contracts' patterns are checked to compile under it when they load."""
    with _ARROW_STRINGS, pd.option_context("future.infer_string", True):
        verdicts = _validate(df, suite, VERDICT_ONLY)
        failed = [r.expectation_config.to_domain_obj() for r in verdicts.results if not r.success]
        if not failed:
            return []
        return failures_of(
            _validate(df, gx.ExpectationSuite(name=f"{suite.name}.failed", expectations=failed), WITH_EXAMPLES)
        )


def _validate(df, suite: gx.ExpectationSuite, result_format: dict):
    # GX's own validator, as ValidationDefinition.run uses it, without storing results.
    # (batch.validate would load the frame twice: get_batch, then its validator gets the batch
    # again.)
    validator = Validator(
        batch_definition=_door_batch_definition(),
        batch_parameters={"dataframe": df},
        result_format=dict(result_format),  # GX keeps the dict it is given
    )
    return validator.validate_expectation_suite(suite)
