"""What a section of the report is: its spec (id, English title and caption, the queries it reads,
how its rows are drawn) and the rendered section the page template lays out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from markupsafe import Markup

from .queries import Query
from .tables import Table
from .texts import Words


@dataclass
class Drawn:
    svg: Markup
    table: Table
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ChartSpec:
    """One section of the page. ``draw(spec, rows per query, words)`` returns the drawing and its
    table (rows None: an optional query whose mart is missing); ``words`` speaks the page's
    language and names codes. Titles and captions in other languages: texts/<lang>.yml, by id."""

    chart_id: str
    title: str
    caption: str
    queries: tuple[Query, ...]
    draw: Callable[[ChartSpec, list[list[dict] | None], Words], Drawn]

    @property
    def mart(self) -> str:
        return ", ".join(dict.fromkeys(query.mart for query in self.queries))


@dataclass
class Chart:
    """One section of the page: drawn, or a "no data yet" panel saying why."""

    chart_id: str
    title: str
    mart: str
    caption: str = ""
    svg: Markup = Markup("")
    table: Table | None = None
    refreshed: str = ""
    notes: list[str] = field(default_factory=list)
    no_data: str = ""
    downloads: dict[str, str] = field(default_factory=dict)  # format -> path relative to the page
