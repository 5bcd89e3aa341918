"""Source freshness: when each source last delivered (the newest ``_loaded_at`` of its raw table)
against the window its delivery rhythm allows (``freshness.warn_after`` in
``dbt_project/models/staging/<source>/_<source>__sources.yml``), checked by
``dbt source freshness`` after every build.

Warn only: a stale source is recorded (``meta.source_freshness``), named in the run log and by
``swpm status``, and the night goes on; the marts are built from what was delivered. A table
that never received a row is recorded as ``no data``, not as stale.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

from ingest.config import Home
from ingest.run import dbt
from ingest.warehouse import connect

STALE = ("warn", "error")


@dataclass(frozen=True)
class SourceFreshness:
    source: str  # dbt source and table, e.g. "clearance.clearance_events"
    status: str  # pass | warn | error (dbt's), runtime error, or no data (never loaded)
    max_loaded_at: dt.datetime | None  # newest _loaded_at (UTC)
    age_hours: float | None
    warn_after: str | None  # e.g. "2 days"
    detail: str = ""

    @property
    def stale(self) -> bool:
        return self.status in STALE

    def describe(self) -> str:
        if self.status == "no data":
            return f"{self.source}: nothing loaded yet"
        if self.max_loaded_at is None:
            return f"{self.source}: {self.status} {self.detail}".strip()
        return (
            f"{self.source}: last loaded {self.max_loaded_at:%Y-%m-%d %H:%M} UTC, "
            f"{self.age_hours / 24:.1f} days ago (warn after {self.warn_after})"
        )


@dataclass(frozen=True)
class FreshnessReport:
    checked_at: dt.datetime
    sources: list[SourceFreshness]

    @property
    def stale(self) -> list[SourceFreshness]:
        return [s for s in self.sources if s.stale]

    @property
    def warning(self) -> str | None:
        """What the run log keeps: the stale sources, or None when every source is fresh."""
        if not self.stale:
            return None
        return f"stale source(s): {'; '.join(s.describe() for s in self.stale)}"

    def summary(self) -> str:
        counts = {st: sum(s.status == st for s in self.sources) for st in dict.fromkeys(s.status for s in self.sources)}
        line = f"freshness: {len(self.sources)} source table(s), " + ", ".join(f"{n} {st}" for st, n in counts.items())
        return f"{line}; {self.warning}" if self.warning else line


def _window(criteria: dict) -> str | None:
    warn = (criteria or {}).get("warn_after") or {}
    if warn.get("count") is None:
        return None
    return f"{warn['count']} {warn['period']}{'' if warn['count'] == 1 else 's'}"


def _utc_naive(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def _parse(sources_json: dict) -> list[SourceFreshness]:
    out = []
    for r in sources_json.get("results", []):
        name = ".".join(r["unique_id"].split(".")[2:])  # source.<project>.<source>.<table>
        status = str(r.get("status"))
        loaded = r.get("max_loaded_at")
        loaded_at = _utc_naive(loaded) if loaded else None
        age = r.get("max_loaded_at_time_ago_in_s")
        if loaded_at is not None and loaded_at.year == 1:  # dbt's "infinitely long ago": an empty table
            status, loaded_at, age = "no data", None, None
        out.append(
            SourceFreshness(
                source=name,
                status=status,
                max_loaded_at=loaded_at,
                age_hours=round(age / 3600, 2) if age is not None else None,
                warn_after=_window(r.get("criteria")),
                detail=str(r.get("error") or "")[:500],
            )
        )
    return sorted(out, key=lambda s: s.source)


def check(home: Home, batch_id: str, log: Callable[[str], None] = print) -> FreshnessReport:
    """``dbt source freshness`` over every source; each result recorded in meta.source_freshness
    with this run's batch id. Never raises for a stale source (dbt's warn status)."""
    sources_json = home.warehouse_dir / "dbt" / "target" / "sources.json"
    sources_json.unlink(missing_ok=True)  # never read an earlier check's results
    result = dbt.run_dbt(home, "source freshness", raise_on_failure=False)
    if not sources_json.exists():
        detail = "; ".join(f"{n['name']}: {n['status']} {n['message'] or ''}".strip() for n in result.failures)
        raise dbt.DbtFailed(f"dbt source freshness wrote no results: {detail or 'see the dbt log'}")
    report = FreshnessReport(
        dt.datetime.now(dt.UTC).replace(tzinfo=None),
        _parse(json.loads(sources_json.read_text(encoding="utf-8"))),
    )
    with connect(home) as con:
        con.executemany(
            "INSERT INTO meta.source_freshness VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [report.checked_at, batch_id, s.source, s.status, s.max_loaded_at, s.age_hours, s.warn_after, s.detail]
                for s in report.sources
            ],
        )
    log(report.summary())
    return report


def latest(con) -> list[dict]:
    """The sources as the latest check found them (``swpm status``)."""
    rows = con.execute(
        """SELECT source, status, max_loaded_at, age_hours, warn_after, detail, checked_at, batch_id
           FROM meta.source_freshness
           WHERE checked_at = (SELECT max(checked_at) FROM meta.source_freshness)
           ORDER BY source"""
    ).fetchall()
    out = []
    for source, status, loaded, age, window, detail, checked_at, batch_id in rows:
        entry = SourceFreshness(source, status, loaded, age, window, detail or "")
        out.append(
            asdict(entry)
            | {"stale": entry.stale, "checked_at": checked_at, "batch_id": batch_id}
            | {"description": entry.describe()}
        )
    return out
