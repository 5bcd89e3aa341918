"""The performance report: one self-contained HTML page from the published snapshot, in English
(``serving/report/index.html``) or Korean (``swpm report --lang ko``: ``serving/report/ko/``).

Read only from ``serving/marts.duckdb`` (opened read-only, so it never waits on the load and
never writes to it) and written by an atomic rename. Charts are inline SVG: no script, no
network, no CDN; the page opens from a file share or a mail attachment. Each chart sits beside
its data table, whose CSV and XLSX downloads are written beside the page (``tables/``), and names
its source mart and refresh time. A mart that is missing, empty, or lacks a column of its
contract shows a "no data yet" panel instead of failing the report.

- ``queries``: one SQL query per chart, naming the marts' contract columns;
- ``snapshot``: the read-only snapshot and the "no data yet" reasons;
- ``svg``: the drawing (grouped and stacked bars, lines, heatmap, axes, wrapping legends);
- ``spec``: what a section is (``ChartSpec``) and a drawn section (``Chart``);
- ``trs_charts``, ``charts``: each chart's title, caption, queries, and its rows laid out as SVG
  and table; ``charts.CHARTS`` is the page's sections in order (a new section is a ChartSpec there);
- ``tables``: a table's values and display formats, and its CSV and XLSX downloads;
- ``texts``: the page's words per language (``texts/<lang>.yml``) and the names of codes (the
  ``display_labels`` mart, from the dbt seed code_labels);
- ``page``: the Jinja2 template (``templates/``), ``build_report`` and ``publish_dbt_docs``
  (``dbt docs generate --static`` into ``serving/docs/dbt/``; GX Data Docs are already in
  ``serving/docs/gx/``; the report links both).
"""

from .charts import CHARTS, Chart, ChartSpec
from .page import build_report, publish_dbt_docs
from .snapshot import NoData

__all__ = ["CHARTS", "Chart", "ChartSpec", "NoData", "build_report", "publish_dbt_docs"]
