"""The publish gate: the marts' Great Expectations checkpoint, over rows read read-only from the
warehouse. Results and Data Docs are kept in the home (``serving/docs/gx``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import great_expectations as gx
from great_expectations import exceptions as gx_exceptions
from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

from ingest.config import EXPECTATIONS_DIR
from ingest.files import read_yaml, write_atomic
from ingest.gx import WITH_EXAMPLES, Failure, build_suite, failures_of, quiet
from ingest.warehouse import connect


@dataclass
class CheckResult:
    name: str
    success: bool
    rows: int
    failures: list[Failure]


def _mart_checks() -> list[dict]:
    checks = []
    for path in sorted((EXPECTATIONS_DIR / "marts").glob("*.yml")):
        checks.extend(read_yaml(path)["checks"])
    return checks


# The Data Docs index lists the results of the latest nights only: GX's index reads every
# result it lists, so an index of all of them cost about 25 ms more on each night than on the
# night before. Every result stays in the store, and its page in the Data Docs.
INDEX_NIGHTS = 7


def _file_context(home, check_count: int):
    """A file-backed GX context in the home, with Data Docs written into serving/docs/gx."""
    home.gx_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(home.gx_dir))
    quiet(context)
    site_config = {
        "class_name": "SiteBuilder",
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "validation_results_limit": INDEX_NIGHTS * check_count,
        },
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(home.serving / "docs" / "gx"),
        },
    }
    sites = context.get_config().data_docs_sites or {}
    if "serving" not in sites:
        context.add_data_docs_site("serving", site_config)
    elif dict(sites["serving"]) != site_config:
        context.update_data_docs_site("serving", site_config)
    return context


def _registration_key(checks: list[dict]) -> str:
    """What the registered suites, validation definitions and checkpoints are made of."""
    text = json.dumps({"gx": gx.__version__, "checks": checks}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _checkpoints(context, home, checks: list[dict]) -> dict[str, gx.Checkpoint]:
    """Each check's checkpoint, registered in the home's GX context (its suite, validation
    definition and checkpoint) only when the checks changed since the last registration: each
    registration rewrites GX's project configuration, about a second of a night for the same
    objects."""
    key_file = home.gx_dir / "mart_checks.sha256"
    key = _registration_key(checks)
    if key_file.exists() and key_file.read_text().strip() == key:
        try:
            return {c["name"]: context.checkpoints.get(c["name"]) for c in checks}
        except gx_exceptions.DataContextError:
            pass  # a checkpoint is missing from the store: register them all again
    datasource = context.data_sources.add_or_update_pandas("marts")
    registered = {}
    for check in checks:
        name = check["name"]
        asset = next((a for a in datasource.assets if a.name == name), None) or datasource.add_dataframe_asset(name)
        batch_def = next(
            (b for b in asset.batch_definitions if b.name == "whole"), None
        ) or asset.add_batch_definition_whole_dataframe("whole")
        suite = context.suites.add_or_update(build_suite(name, check["expectations"]))
        validation = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch_def, suite=suite)
        )
        registered[name] = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=name,
                validation_definitions=[validation],
                actions=[],
                result_format=dict(WITH_EXAMPLES),  # GX keeps the dict it is given
            )
        )
    write_atomic(key_file, key + "\n")
    return registered


def _registered(home) -> tuple[object, list[dict], dict[str, gx.Checkpoint]]:
    """The home's GX context, the mart checks, and each check's checkpoint, registered if needed."""
    checks = _mart_checks()
    context = _file_context(home, len(checks))
    return context, checks, _checkpoints(context, home, checks)


def register_checks(home) -> None:
    """Register the mart checks in the home's GX context, as the first night's checks do: what a
    scheduled home keeps from the night before (the benchmark's new homes get it this way)."""
    _registered(home)


def check_marts(home) -> list[CheckResult]:
    """Run every mart check as a GX checkpoint over rows read read-only from the warehouse;
    results and Data Docs are kept. Returns one result per check.

    The Data Docs are built once, for every check's result, after the last checkpoint: a docs
    action on each checkpoint would rebuild the site's index once per check."""
    context, checks, checkpoints = _registered(home)
    out = []
    documented = []
    with connect(home, read_only=True) as con:
        frames = {c["name"]: con.execute(c["query"]).df() for c in checks}
    for name, checkpoint in checkpoints.items():
        result = checkpoint.run(batch_parameters={"dataframe": frames[name]})
        [(result_id, run)] = result.run_results.items()
        documented += [result_id, ExpectationSuiteIdentifier(name=run.suite_name)]
        out.append(CheckResult(name, bool(result.success), len(frames[name]), failures_of(run, line_offset=0)))
    context.build_data_docs(site_names=["serving"], resource_identifiers=documented, build_index=True)
    return out
