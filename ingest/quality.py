"""Great Expectations, used on pandas batches (GX's SQL datasource is broken on DuckDB).

At the door: every delivered file's rows against its contract's suite (ephemeral context, no
stored results: hundreds of files a night). On the way out: the marts' checkpoint, with results
and Data Docs kept in the home.
"""
from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402
from great_expectations.expectations.expectation_configuration import (  # noqa: E402
    ExpectationConfiguration,
)
from great_expectations.validator.v1_validator import Validator  # noqa: E402

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


def _quiet(context) -> None:
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}


@functools.cache
def _door_batch_definition():
    context = gx.get_context(mode="ephemeral")
    _quiet(context)
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
    validator = Validator(batch_definition=_door_batch_definition(), batch_parameters={"dataframe": df},
                          result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5})
    return failures_of(validator.validate_expectation_suite(suite))


@dataclass
class CheckResult:
    name: str
    success: bool
    rows: int
    failures: list[Failure]


def _mart_checks() -> list[dict]:
    import yaml

    from ingest.config import EXPECTATIONS_DIR

    checks = []
    for path in sorted((EXPECTATIONS_DIR / "marts").glob("*.yml")):
        checks.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["checks"])
    return checks


def _file_context(home):
    """A file-backed GX context in the home, with Data Docs written into serving/docs/gx."""
    home.gx_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(home.gx_dir))
    _quiet(context)
    site_config = {
        "class_name": "SiteBuilder",
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(home.serving / "docs" / "gx"),
        },
    }
    sites = context.get_config().data_docs_sites or {}
    if "serving" in sites:
        context.update_data_docs_site("serving", site_config)
    else:
        context.add_data_docs_site("serving", site_config)
    return context


def check_marts(home) -> list[CheckResult]:
    """Run every mart check as a GX checkpoint over rows read read-only from the warehouse;
    results and Data Docs are kept. Returns one result per check."""
    from ingest.warehouse import connect

    context = _file_context(home)
    datasource = context.data_sources.add_or_update_pandas("marts")
    out = []
    with connect(home, read_only=True) as con:
        frames = {c["name"]: con.execute(c["query"]).df() for c in _mart_checks()}
    for check in _mart_checks():
        name = check["name"]
        asset = next((a for a in datasource.assets if a.name == name), None) or datasource.add_dataframe_asset(name)
        batch_def = next((b for b in asset.batch_definitions if b.name == "whole"), None) \
            or asset.add_batch_definition_whole_dataframe("whole")
        suite = context.suites.add_or_update(build_suite(name, check["expectations"]))
        validation = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch_def, suite=suite))
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=name,
                validation_definitions=[validation],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs", site_names=["serving"])],
                result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
            )
        )
        result = checkpoint.run(batch_parameters={"dataframe": frames[name]})
        run = next(iter(result.run_results.values()))
        out.append(CheckResult(name, bool(result.success), len(frames[name]), failures_of(run, line_offset=0)))
    return out
