"""The performance report: one self-contained HTML page from the published snapshot.

Read only from ``serving/marts.duckdb`` (opened read-only, so it never waits on the load and
never writes to it) and written to ``serving/report/index.html`` by an atomic rename. Charts are
inline SVG: no script, no network, no CDN; the page opens from a file share or a mail attachment.
Each chart sits beside its data table and names its source mart and refresh time. A mart that is
missing, empty, or lacks a column of its contract shows a "no data yet" panel instead of failing
the report.

- ``queries``: one SQL query per chart, naming the marts' contract columns;
- ``snapshot``: the read-only snapshot and the "no data yet" reasons;
- ``svg``: the drawing (bars and lines, heatmap, axes, legends);
- ``charts``: each chart's title, caption, queries, and its rows laid out as SVG and table;
- ``page``: the Jinja2 template (``templates/``), ``build_report`` and ``publish_dbt_docs``
  (``dbt docs generate --static`` into ``serving/docs/dbt/``; GX Data Docs are already in
  ``serving/docs/gx/``; the report links both).
"""

from .charts import CHARTS, Chart, ChartSpec
from .page import build_report, publish_dbt_docs
from .snapshot import NoData

__all__ = ["CHARTS", "Chart", "ChartSpec", "NoData", "build_report", "publish_dbt_docs"]
