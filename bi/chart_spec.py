"""One chart of bi/dashboards.yml as Superset's import YAML: its params (what the browser draws),
its saved query (what POST /api/v1/chart/data runs), and the datasets its marts need. Checks
the spec against the marts' dbt contracts (bi/build_bundle.py writes the bundle)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import yaml

from bi import bootstrap

MARTS_DIR = Path(__file__).resolve().parent.parent / "dbt_project" / "models" / "marts"
VERSION = "1.0.0"
GRAINS = {"year": "P1Y", "month": "P1M"}
VIZ = {"bar": "echarts_timeseries_bar", "line": "echarts_timeseries_line", "table": "table"}
# A mart dated by period_start gets a calculated `year`, so the Year filter reaches every mart.
YEAR_EXPRESSION = "CAST(EXTRACT(year FROM period_start) AS INTEGER)"


def column_sql(mart_columns, column: str) -> str:
    """A chart column as SQL on the mart: quoted, or the calculated year."""
    if column == "year" and "year" not in mart_columns:
        return YEAR_EXPRESSION
    return f'"{column}"'


ROW_LIMIT = 10_000
CHART_HEIGHT = 50  # grid units of 8 px


class SpecError(ValueError):
    pass


def uuid_of(kind: str, name: str) -> str:
    return str(uuid.uuid5(bootstrap.NAMESPACE, f"{kind}/{name}"))


def mart_columns(mart: str) -> dict[str, str]:
    """The mart's contracted columns and their DuckDB types, from its dbt YAML."""
    path = MARTS_DIR / f"{mart}.yml"
    if not path.exists():
        raise SpecError(f"mart {mart!r}: no dbt model {path}")
    model = next(m for m in yaml.safe_load(path.read_text())["models"] if m["name"] == mart)
    return {c["name"]: c.get("data_type", "varchar").upper() for c in model["columns"]}


def dump_yaml(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)


def _is_temporal(type_: str) -> bool:
    return type_.split("(")[0] in {"DATE", "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"}


def _is_numeric(type_: str) -> bool:
    return type_.split("(")[0] in {"INTEGER", "BIGINT", "DOUBLE", "DECIMAL", "FLOAT", "HUGEINT", "SMALLINT"}


class Chart:
    def __init__(self, spec: dict, columns: dict[str, str]):
        self.spec = spec
        self.key = spec["key"]
        self.mart = spec["mart"]
        self.viz = spec["viz"]
        # `year` is a column of every mart: its own, or calculated from period_start.
        self.columns = columns if "year" in columns or "period_start" not in columns else columns | {"year": "INTEGER"}
        self.fixed = {str(k): str(v) for k, v in (spec.get("fixed") or {}).items()}
        self.series = list(spec.get("series") or [])
        self.metrics = list(spec.get("metrics") or [])
        self.x = spec.get("x")
        self.table_columns = list(spec.get("columns") or [])
        self.uuid = uuid_of("chart", self.key)
        self._check()

    def _check(self) -> None:
        where = f"chart {self.key!r} ({self.mart})"
        if self.viz not in VIZ:
            raise SpecError(f"{where}: viz {self.viz!r} is not one of {sorted(VIZ)}")
        if "grouping_set" in self.columns and "grouping_set" not in self.fixed:
            raise SpecError(f"{where}: the mart has rollup rows; fix grouping_set so none is counted twice")
        used = [*self.fixed, *self.series, *self.table_columns, *(m for m in self.metrics if m != "count")]
        if self.viz == "table":
            if not self.table_columns or self.metrics or self.x:
                raise SpecError(f"{where}: a table has columns, and no x or metrics")
        else:
            if not self.x or not self.metrics or self.table_columns:
                raise SpecError(f"{where}: a {self.viz} chart has x and metrics, and no columns")
            used.append(self.x)
            if _is_temporal(self.columns.get(self.x, "")) and self.spec.get("grain") not in GRAINS:
                raise SpecError(f"{where}: a date x needs grain: one of {sorted(GRAINS)}")
        missing = [c for c in used if c not in self.columns]
        if missing:
            raise SpecError(f"{where}: no column {', '.join(missing)} in the mart")
        if "count" in self.metrics and "grouping_set" in self.columns:
            raise SpecError(f"{where}: count adds rows up; not on a mart with rollup rows")

    @property
    def shown(self) -> set[str]:
        """The columns a reader sees vary in this chart (what a native filter may narrow)."""
        return {self.x, *self.series, *self.table_columns} - {None}

    def in_scope(self, column: str) -> bool:
        if column == "year":
            return "year" in self.columns
        return column in self.shown and column not in self.fixed

    def _x_column(self):
        if self.x and _is_temporal(self.columns[self.x]):
            return {
                "timeGrain": GRAINS[self.spec["grain"]],
                "columnType": "BASE_AXIS",
                "sqlExpression": self.x,
                "label": self.x,
                "expressionType": "SQL",
            }
        return self.x

    def _adhoc_filters(self) -> list[dict]:
        return [
            {
                "clause": "WHERE",
                "expressionType": "SIMPLE",
                "subject": column,
                "operator": "==",
                "operatorId": "EQUALS",
                "comparator": value,
                "isExtra": False,
                "isNew": False,
                "sqlExpression": None,
                "filterOptionName": f"fixed_{self.key}_{column}",
            }
            for column, value in self.fixed.items()
        ]

    def params(self) -> dict:
        common = {
            "datasource": "0__table",  # the importer puts the dataset's id here
            "viz_type": VIZ[self.viz],
            "adhoc_filters": self._adhoc_filters(),
            "row_limit": ROW_LIMIT,
            "extra_form_data": {},
            "dashboards": [],
        }
        if self.viz == "table":
            return common | {
                "query_mode": "raw",
                "all_columns": self.table_columns,
                "order_by_cols": [json.dumps([c, True]) for c in self.table_columns[:3]],
                "groupby": [],
                "metrics": [],
                "percent_metrics": [],
                "server_page_length": 10,
                "table_timestamp_format": "%Y-%m-%d",
                "include_search": False,
                "show_cell_bars": False,
                "color_pn": False,
                "temporal_columns_lookup": {},
            }
        temporal = _is_temporal(self.columns[self.x])
        params = common | {
            "x_axis": self.x,
            "x_axis_sort_asc": True,
            "xAxisForceCategorical": not temporal,
            "metrics": self.metrics,
            "groupby": self.series,
            "order_desc": True,
            "truncate_metric": True,
            "show_empty_columns": True,
            "comparison_type": "values",
            "annotation_layers": [],
            "color_scheme": "supersetColors",
            "show_legend": True,
            "legendType": "scroll",
            "legendOrientation": "top",
            "rich_tooltip": True,
            "y_axis_format": "SMART_NUMBER",
            "x_axis_time_format": "smart_date",
            "tooltipTimeFormat": "smart_date",
            "markerEnabled": True,
            "stack": "Stack" if self.spec.get("stack") else None,
            "only_total": True,
        }
        if temporal:
            params["time_grain_sqla"] = GRAINS[self.spec["grain"]]
        if self.viz == "bar":
            params["orientation"] = "vertical"
        return params

    def query_context(self) -> dict:
        """What POST /api/v1/chart/data runs for this chart: its figures in long form, one row
        per x and series (the chart pivots them into series)."""
        filters = [{"col": c, "op": "==", "val": v} for c, v in self.fixed.items()]
        if self.viz == "table":
            columns, metrics = self.table_columns, []
            orderby = [[c, True] for c in self.table_columns[:3]]
        else:
            columns, metrics = [self._x_column(), *self.series], self.metrics
            orderby = [[self.metrics[0], False]]
        query = {
            "filters": filters,
            "extras": {"having": "", "where": ""},
            "applied_time_extras": {},
            "columns": columns,
            "metrics": metrics,
            "orderby": orderby,
            "annotation_layers": [],
            "row_limit": ROW_LIMIT,
            "series_columns": self.series,
            "series_limit": 0,
            "order_desc": True,
            "url_params": {},
            "custom_params": {},
            "custom_form_data": {},
            "post_processing": [],
        }
        return {
            "datasource": {"id": 0, "type": "table"},
            "force": False,
            "queries": [query],
            "form_data": self.params(),
            "result_format": "json",
            "result_type": "full",
        }

    def yaml(self) -> dict:
        return {
            "slice_name": self.spec["title"],
            "description": self.spec.get("description"),
            "certified_by": None,
            "certification_details": None,
            "viz_type": VIZ[self.viz],
            "params": self.params(),
            "query_context": json.dumps(self.query_context()),
            "cache_timeout": None,
            "uuid": self.uuid,
            "version": VERSION,
            "dataset_uuid": str(bootstrap.dataset_uuid(self.mart)),
        }


def _metric(column: str) -> dict:
    if column == "count":
        return {"metric_name": "count", "verbose_name": "rows", "expression": "COUNT(*)", "metric_type": "count"}
    return {
        "metric_name": column,
        "verbose_name": column,
        "expression": f'MAX("{column}")',
        "description": f"{column} of the group's one row (charts fix grouping_set, so there is one)",
        "metric_type": None,
    }


def dataset_yaml(mart: str, charts: list[Chart], columns: dict[str, str]) -> dict:
    used = sorted({c for ch in charts for c in (*ch.fixed, *ch.series, *ch.table_columns, ch.x) if c} - {"year"})
    metrics = sorted({m for ch in charts for m in ch.metrics} | {"count"})
    column_rows = [
        {"column_name": c, "type": columns[c], "is_dttm": _is_temporal(columns[c]), "groupby": True, "filterable": True}
        for c in used
    ]
    if "year" in columns:
        column_rows.append({"column_name": "year", "type": columns["year"], "is_dttm": False, "groupby": True})
    elif "period_start" in columns:
        column_rows.append(
            {"column_name": "year", "type": "INTEGER", "expression": YEAR_EXPRESSION, "is_dttm": False, "groupby": True}
        )
    for row in column_rows:
        row.setdefault("filterable", True)
    return {
        "table_name": mart,
        "main_dttm_col": "period_start" if "period_start" in columns else None,
        "description": f"The mart {mart} of the published snapshot (dbt docs: serving/docs/dbt).",
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "schema": bootstrap.SCHEMA,
        "sql": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": str(bootstrap.dataset_uuid(mart)),
        "metrics": [_metric(m) for m in metrics],
        "columns": column_rows,
        "version": VERSION,
        "database_uuid": str(bootstrap.DATABASE_UUID),
    }
