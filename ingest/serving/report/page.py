"""The page: the charts rendered through templates/report.html.j2 (Jinja2, autoescaped) and
written to serving/report/index.html (English) or serving/report/<lang>/index.html by an atomic
rename, each table's CSV and XLSX downloads beside it in tables/; and the dbt docs."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import jinja2

from ingest.config import Home
from ingest.files import replacing, write_atomic

from . import queries as q
from .charts import CHARTS, Chart, build_chart, no_data
from .queries import OPEN_ALERTS
from .snapshot import NoData, Snapshot, fmt_time
from .tables import write_downloads
from .texts import LANGUAGES, Words, catalogue, load_labels

TEMPLATES = Path(__file__).parent / "templates"
# Relative to serving/; a site not generated yet is named without a link.
DOCS = (
    ("dbt docs (models, columns, lineage)", "docs/dbt/index.html"),
    ("Great Expectations Data Docs (mart checks)", "docs/gx/index.html"),
)
DOWNLOADS = "tables"  # the folder beside the page that holds its tables' downloads

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def report_dir(home: Home, lang: str = "en") -> Path:
    """Where the page of ``lang`` is written: serving/report/, or serving/report/<lang>/."""
    base = home.serving / "report"
    return base if lang == "en" else base / lang


def _up(lang: str) -> str:
    """From the page's folder up to serving/."""
    return "../" if lang == "en" else "../../"


def render(
    home: Home, charts: list[Chart], info: dict, words: Words | None = None, linked=(), alerts: list[dict] | None = None
) -> str:
    """The page; it links the pages of the ``linked`` languages (and of any already written)."""
    w = words or Words()
    other_pages = []
    for lang in LANGUAGES:
        if lang != w.lang and (lang in linked or (report_dir(home, lang) / "index.html").exists()):
            rel = ("" if w.lang == "en" else "../") + ("index.html" if lang == "en" else f"{lang}/index.html")
            other_pages.append((catalogue(lang).get("language_name", lang), rel, lang))
    return _env.get_template("report.html.j2").render(
        charts=charts,
        info=info,
        alerts=alerts or [],
        lang=w.lang,
        t=w.t,
        published_at=fmt_time(info.get("published_at")),
        built_at=f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
        docs=[(w.t(label), f"{_up(w.lang)}{rel}" if (home.serving / rel).exists() else None) for label, rel in DOCS],
        other_pages=other_pages,
    )


def open_alerts(snap: Snapshot) -> list[dict]:
    """The snapshot's open alerts (kpi_alerts); none in a snapshot without the mart or its rows."""
    try:
        return snap.rows(OPEN_ALERTS)
    except NoData:
        return []


def words_for(snap: Snapshot, lang: str) -> Words:
    """The page's words, with the names of codes from the snapshot's display_labels (none yet: codes)."""
    try:
        rows = snap.rows(q.LABELS)
    except NoData:
        rows = []
    return Words(lang, load_labels(rows, lang))


def build_charts(snap: Snapshot, words: Words | None = None) -> list[Chart]:
    return [build_chart(spec, snap, words) for spec in CHARTS]


def _write_downloads(charts: list[Chart], folder: Path) -> None:
    """Every drawn table's CSV and XLSX into ``folder``; files of charts no longer drawn go."""
    written = set()
    for chart in charts:
        if chart.table is not None and not chart.no_data:
            files = write_downloads(chart.table, folder, chart.chart_id)
            chart.downloads = {kind: f"{DOWNLOADS}/{name}" for kind, name in files.items()}
            written.update(files.values())
    if folder.exists():
        for stale in folder.iterdir():
            if stale.is_file() and stale.name not in written and not stale.name.startswith("."):
                stale.unlink()


def build_report(home: Home, lang: str | None = None) -> Path:
    """Write the page of ``lang`` from the published snapshot, or of every language (None: the
    nightly report), each with its tables' downloads first (so a page never links a file not
    there yet). One connection for all of them: every page shows the same snapshot. Returns the
    path of the page of ``lang``, or of the English one."""
    langs = LANGUAGES if lang is None else (lang,)
    for each in langs:
        catalogue(each)  # an unknown language fails here, before anything is written
    source = home.snapshot
    pages = {}
    if source.exists():
        with Snapshot(source) as snap:
            for each in langs:
                words = words_for(snap, each)
                pages[each] = (build_charts(snap, words), snap.info, words)
            alerts = open_alerts(snap)
    else:
        why = f"nothing has been published to {source} yet (run the nightly load)"
        for each in langs:
            words = Words(each)
            pages[each] = ([no_data(spec, why, words) for spec in CHARTS], {}, words)
        alerts = []
    written = {}
    for each, (charts, info, words) in pages.items():
        folder = report_dir(home, each)
        folder.mkdir(parents=True, exist_ok=True)
        _write_downloads(charts, folder / DOWNLOADS)
        written[each] = write_atomic(
            folder / "index.html", render(home, charts, info, words, linked=langs, alerts=alerts)
        )
    return written[lang or "en"]


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
