"""The publish gate: the marts' Great Expectations checkpoint, over rows read read-only from the
warehouse. Results and Data Docs are kept in the home (``serving/docs/gx``)."""

from __future__ import annotations

from dataclasses import dataclass

import great_expectations as gx
from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

from ingest.config import EXPECTATIONS_DIR
from ingest.gx import Failure, build_suite, failures_of, quiet
from ingest.warehouse import connect


@dataclass
class CheckResult:
    name: str
    success: bool
    rows: int
    failures: list[Failure]


def _mart_checks() -> list[dict]:
    import yaml

    checks = []
    for path in sorted((EXPECTATIONS_DIR / "marts").glob("*.yml")):
        checks.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["checks"])
    return checks


def _file_context(home):
    """A file-backed GX context in the home, with Data Docs written into serving/docs/gx."""
    home.gx_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(home.gx_dir))
    quiet(context)
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
    results and Data Docs are kept. Returns one result per check.

    The Data Docs are built once, for every check's result, after the last checkpoint: a docs
    action on each checkpoint would rebuild the site's index once per check."""
    context = _file_context(home)
    datasource = context.data_sources.add_or_update_pandas("marts")
    out = []
    documented = []
    with connect(home, read_only=True) as con:
        frames = {c["name"]: con.execute(c["query"]).df() for c in _mart_checks()}
    for check in _mart_checks():
        name = check["name"]
        asset = next((a for a in datasource.assets if a.name == name), None) or datasource.add_dataframe_asset(name)
        batch_def = next(
            (b for b in asset.batch_definitions if b.name == "whole"), None
        ) or asset.add_batch_definition_whole_dataframe("whole")
        suite = context.suites.add_or_update(build_suite(name, check["expectations"]))
        validation = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=name, data=batch_def, suite=suite)
        )
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=name,
                validation_definitions=[validation],
                actions=[],
                result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
            )
        )
        result = checkpoint.run(batch_parameters={"dataframe": frames[name]})
        [(result_id, run)] = result.run_results.items()
        documented += [result_id, ExpectationSuiteIdentifier(name=run.suite_name)]
        out.append(CheckResult(name, bool(result.success), len(frames[name]), failures_of(run, line_offset=0)))
    context.build_data_docs(site_names=["serving"], resource_identifiers=documented, build_index=True)
    return out
