"""Reading the published snapshot (serving/marts.duckdb) for the report: read-only, never for
writing, so the report neither waits on a publish nor can change what BI tools read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from .queries import Query


class NoData(Exception):
    """Why a chart cannot be drawn yet; shown on the page."""


def fmt_time(value) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


class Snapshot:
    """The published snapshot, opened read-only. One connection for the whole report: it holds
    the file open, so a swap mid-report does not mix two snapshots."""

    def __init__(self, path: Path):
        self.path = path
        self.con = duckdb.connect(str(path), read_only=True)
        self.columns: dict[str, set[str]] = {}
        for table, column in self.con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
        ).fetchall():
            self.columns.setdefault(table, set()).add(column)
        self.info: dict = {}
        if "snapshot_info" in self.columns:
            row = self.con.execute("SELECT snapshot_id, published_at FROM snapshot_info").fetchone()
            if row is not None:
                self.info = {"snapshot_id": row[0], "published_at": row[1]}

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def rows(self, query: Query) -> list[dict]:
        """The query's rows as dicts; NoData when its mart is missing, lacks a contract column the
        query reads, is empty, or has none of the rows the query selects."""
        mart = query.mart
        if mart not in self.columns:
            raise NoData(f"the mart {mart} is not in the published snapshot yet")
        # A mart lacking a column of its contract gives a "no data yet" panel, not a failed
        # report: dbt enforces the contract when it builds, so this is a snapshot published by
        # another version of the models, and one stale mart must not take the other charts
        # down (as with a missing or empty mart). The panel names the columns and the contract.
        lacking = [c for c in query.columns if c not in self.columns[mart]]
        if lacking:
            raise NoData(
                f"the mart {mart} lacks contract column(s) {', '.join(lacking)}: the snapshot does not match "
                f"dbt_project/models/marts/{mart}.yml"
            )
        cur = self.con.execute(query.sql)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
        if not rows:
            if self.con.execute(f'SELECT count(*) FROM "{mart}"').fetchone()[0] == 0:
                raise NoData(f"the mart {mart} has no rows yet")
            raise NoData(f"the mart {mart} has no {query.selects} yet")
        return rows

    def refreshed_at(self, mart: str):
        """The mart's data refresh time (its lineage column, where it has one), or None."""
        if "source_refreshed_at" in self.columns.get(mart, ()):
            return self.con.execute(f'SELECT max(source_refreshed_at) FROM "{mart}"').fetchone()[0]
        return None

    def refreshed(self, mart: str) -> str:
        """The mart's data refresh time and the publish time, in words."""
        published = fmt_time(self.info.get("published_at"))
        at = self.refreshed_at(mart)
        if at is not None:
            return f"data refreshed {fmt_time(at)}, published {published}"
        return f"published {published}"
