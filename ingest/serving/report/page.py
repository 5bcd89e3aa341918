"""The page: the charts rendered through templates/report.html.j2 (Jinja2, autoescaped) and
written to serving/report/index.html by an atomic rename; and the dbt docs beside it."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import jinja2

from ingest.config import Home
from ingest.files import replacing, write_atomic

from .charts import CHARTS, Chart, build_chart, no_data
from .queries import OPEN_ALERTS
from .snapshot import NoData, Snapshot, fmt_time

TEMPLATES = Path(__file__).parent / "templates"
# Relative to serving/report/index.html; a site not generated yet is named without a link.
DOCS = (
    ("dbt docs (models, columns, lineage)", "docs/dbt/index.html"),
    ("Great Expectations Data Docs (mart checks)", "docs/gx/index.html"),
)

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def render(home: Home, charts: list[Chart], info: dict, alerts: list[dict] | None = None) -> str:
    return _env.get_template("report.html.j2").render(
        charts=charts,
        info=info,
        alerts=alerts or [],
        published_at=fmt_time(info.get("published_at")),
        built_at=f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
        docs=[(label, f"../{rel}" if (home.serving / rel).exists() else None) for label, rel in DOCS],
    )


def open_alerts(snap: Snapshot) -> list[dict]:
    """The snapshot's open alerts (kpi_alerts); none in a snapshot without the mart or its rows."""
    try:
        return snap.rows(OPEN_ALERTS)
    except NoData:
        return []


def build_charts(snap: Snapshot) -> list[Chart]:
    return [build_chart(spec, snap) for spec in CHARTS]


def build_report(home: Home) -> Path:
    """Write serving/report/index.html from the published snapshot; returns its path."""
    source = home.snapshot
    target = home.serving / "report" / "index.html"
    if source.exists():
        with Snapshot(source) as snap:
            charts, info, alerts = build_charts(snap), snap.info, open_alerts(snap)
    else:
        info = {}
        why = f"nothing has been published to {source} yet (run the nightly load)"
        charts = [no_data(spec, why) for spec in CHARTS]
        alerts = []
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(target, render(home, charts, info, alerts))


def publish_dbt_docs(home: Home) -> Path:
    """``dbt docs generate --static`` (one self-contained page: manifest and catalog inside)
    into serving/docs/dbt/index.html."""
    from ingest.run.dbt import run_dbt

    run_dbt(home, "docs generate", "--static")
    built = home.warehouse_dir / "dbt" / "target" / "static_index.html"
    if not built.exists():
        raise FileNotFoundError(f"dbt docs generate --static did not write {built}")
    target = home.serving / "docs" / "dbt" / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    with replacing(target) as tmp:
        shutil.copyfile(built, tmp)
    return target
