"""Write the Superset import bundle (bi/bundle/) from the dashboards as code (bi/dashboards.yml).

    python -m bi.build_bundle [--out DIR]

The bundle is Superset's own export format (metadata.yaml, databases/, datasets/, charts/,
dashboards/), so Superset's "Import dashboard" takes it too; bi/bootstrap.py imports it as
assets. Every id is a uuid5 of a name (bootstrap.NAMESPACE), so a rebuild changes nothing unless
the spec does. Column types come from the marts' dbt contracts, so a chart naming a column a mart
lacks fails here, not in the browser.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import yaml

from bi import bootstrap
from bi.chart_spec import VERSION, Chart, SpecError, column_sql, dataset_yaml, dump_yaml, mart_columns, uuid_of

__all__ = ["SpecError", "build", "column_sql", "write"]

HERE = Path(__file__).resolve().parent
SPEC = HERE / "dashboards.yml"
TIMESTAMP = "2025-01-01T00:00:00+00:00"  # fixed: the same spec gives the same bytes
CHART_HEIGHT = 50  # grid units of 8 px


def database_yaml() -> dict:
    return {
        "database_name": bootstrap.DATABASE_NAME,
        # The compose path; bootstrap.py sets the snapshot it is given.
        "sqlalchemy_uri": bootstrap.sqlalchemy_uri("/data/swpm/serving/marts.duckdb"),
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_csv_upload": False,
        "extra": bootstrap.database_extra(),
        "uuid": str(bootstrap.DATABASE_UUID),
        "version": VERSION,
    }


def _native_filter(dash: dict, name: str, spec: dict, charts: list[Chart], ids: dict[str, int]) -> dict:
    column = spec["column"]
    in_scope = [c for c in charts if c.in_scope(column)]
    if not in_scope:
        raise SpecError(f"dashboard {dash['slug']!r}: filter {name!r} reaches no chart")
    target = in_scope[0]
    prefilter = (
        []
        if column == "year"
        else [
            {
                "clause": "WHERE",
                "expressionType": "SIMPLE",
                "subject": column,
                "operator": "!=",
                "operatorId": "NOT_EQUALS",
                "comparator": "ALL",
                "filterOptionName": f"not_rollup_{column}",
                "isExtra": False,
                "isNew": False,
                "sqlExpression": None,
            }
        ]
    )
    return {
        "id": f"NATIVE_FILTER-{dash['slug']}-{name}",
        "name": spec["label"],
        "filterType": "filter_select",
        "type": "NATIVE_FILTER",
        "description": f"{column}; applies to the charts that show it (rollup levels are built into each chart)",
        "targets": [{"datasetUuid": str(bootstrap.dataset_uuid(target.mart)), "column": {"name": column}}],
        "adhoc_filters": prefilter,
        "controlValues": {
            "enableEmptyFilter": False,
            "defaultToFirstItem": False,
            "multiSelect": True,
            "searchAllOptions": False,
            "inverseSelection": False,
        },
        "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
        "cascadeParentIds": [],
        "scope": {"rootPath": ["ROOT_ID"], "excluded": [ids[c.key] for c in charts if c not in in_scope]},
        "tabsInScope": [],
    }


def _position(dash: dict, charts: list[Chart], ids: dict[str, int]) -> dict:
    position = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": dash["title"]}},
    }
    rows: list[list[Chart]] = []
    for chart in charts:
        width = chart.spec.get("width", 6)
        if not rows or sum(c.spec.get("width", 6) for c in rows[-1]) + width > 12:
            rows.append([])
        rows[-1].append(chart)
    for n, row in enumerate(rows, 1):
        row_id = f"ROW-{n}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [f"CHART-{c.key}" for c in row],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for chart in row:
            position[f"CHART-{chart.key}"] = {
                "type": "CHART",
                "id": f"CHART-{chart.key}",
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                # chartId beside uuid: without it Superset's import fails "for an unknown reason".
                "meta": {
                    "width": chart.spec.get("width", 6),
                    "height": CHART_HEIGHT,
                    "chartId": ids[chart.key],
                    "uuid": chart.uuid,
                    "sliceName": chart.spec["title"],
                },
            }
    return position


def dashboard_yaml(dash: dict, filters: dict, charts: list[Chart], ids: dict[str, int], colors: dict) -> dict:
    unknown = [f for f in dash.get("filters", []) if f not in filters]
    if unknown:
        raise SpecError(f"dashboard {dash['slug']!r}: unknown filters {unknown}")
    metadata = {
        "native_filter_configuration": [
            _native_filter(dash, name, filters[name], charts, ids) for name in dash.get("filters", [])
        ],
        "color_scheme": "",
        "refresh_frequency": 0,
        "expanded_slices": {},
        "label_colors": dict(colors),
        "shared_label_colors": {},
        "color_scheme_domain": [],
        "timed_refresh_immune_slices": [],
        "cross_filters_enabled": False,
        "default_filters": "{}",
        "chart_configuration": {},
        "global_chart_configuration": {"scope": {"rootPath": ["ROOT_ID"], "excluded": []}, "chartsInScope": []},
    }
    return {
        "dashboard_title": dash["title"],
        "description": dash.get("description"),
        "css": "",
        "slug": dash["slug"],
        "uuid": uuid_of("dashboard", dash["slug"]),
        "position": _position(dash, charts, ids),
        "metadata": metadata,
        "version": VERSION,
        "published": True,
        "certified_by": None,
        "certification_details": None,
    }


def _file_name(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text).strip("_")


def build(spec_path: Path = SPEC) -> dict[str, str]:
    """The bundle as {path: YAML text}."""
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    files = {"metadata.yaml": dump_yaml({"version": VERSION, "type": "Dashboard", "timestamp": TIMESTAMP})}
    files[bootstrap.DATABASE_FILE] = dump_yaml(database_yaml())
    charts_by_mart: dict[str, list[Chart]] = {}
    columns_by_mart: dict[str, dict[str, str]] = {}
    next_id = 1
    keys: set[str] = set()
    for dash in spec["dashboards"]:
        charts = []
        for chart_spec in dash["charts"]:
            for seen in (chart_spec["key"], chart_spec["title"]):
                if seen in keys:
                    raise SpecError(f"chart key or title {seen!r} is used twice")
                keys.add(seen)
            mart = chart_spec["mart"]
            columns = columns_by_mart.setdefault(mart, mart_columns(mart))
            chart = Chart(chart_spec, columns)
            charts.append(chart)
            charts_by_mart.setdefault(mart, []).append(chart)
        ids = {}
        for chart in charts:
            ids[chart.key] = next_id
            next_id += 1
            files[f"charts/{_file_name(chart.key)}.yaml"] = dump_yaml(chart.yaml())
        files[f"dashboards/{_file_name(dash['slug'])}.yaml"] = dump_yaml(
            dashboard_yaml(dash, spec["filters"], charts, ids, spec.get("colors") or {})
        )
    for mart, charts in charts_by_mart.items():
        files[f"datasets/swpm_marts/{mart}.yaml"] = dump_yaml(dataset_yaml(mart, charts, columns_by_mart[mart]))
    return dict(sorted(files.items()))


def write(out: Path, files: dict[str, str]) -> None:
    if out.exists():
        shutil.rmtree(out)
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=bootstrap.BUNDLE)
    args = parser.parse_args(argv)
    files = build()
    write(args.out, files)
    charts = sum(name.startswith("charts/") for name in files)
    dashboards = sum(name.startswith("dashboards/") for name in files)
    print(f"bundle: {dashboards} dashboards, {charts} charts -> {args.out}")


if __name__ == "__main__":
    main()
