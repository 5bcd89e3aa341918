"""The report's words in each language it is written in: the page's own texts (``texts/<lang>.yml``:
chart titles and captions by chart id, and every other string keyed by its English wording, so a
string without a translation shows in English), and the names of the marts' codes (the
``display_labels`` mart, from the dbt seed code_labels: modes, channels, offices, indicators,
parties, ...; a code without a name shows as it is)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from ingest.files import read_yaml

TEXTS = Path(__file__).parent / "texts"
LANGUAGES = ("en", "ko")


class UnknownLanguage(ValueError):
    pass


@functools.cache
def catalogue(lang: str) -> dict:
    if lang not in LANGUAGES:
        raise UnknownLanguage(f"the report is written in {', '.join(LANGUAGES)}, not {lang!r}")
    path = TEXTS / f"{lang}.yml"
    return read_yaml(path) if path.exists() else {}


@dataclass
class Words:
    """What a chart's drawing and the page need to speak one language."""

    lang: str = "en"
    labels: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, code) -> name
    untranslated: set[str] = field(default_factory=set)  # strings this page showed in English

    def t(self, english: str, **values) -> str:
        """``english`` in the page's language (English when there is no translation), formatted."""
        if self.lang != "en":
            strings = catalogue(self.lang).get("strings", {})
            if english in strings:
                english = strings[english]
            else:
                self.untranslated.add(english)
        return english.format(**values) if values else english

    def chart(self, chart_id: str, key: str, english: str) -> str:
        """A chart's title or caption."""
        if self.lang == "en":
            return english
        found = catalogue(self.lang).get("charts", {}).get(chart_id, {}).get(key)
        if found is None:
            self.untranslated.add(f"{chart_id}.{key}")
        return found or english

    def name(self, kind: str, code) -> str:
        """The name of a code of the marts (``display_labels``), else the code itself."""
        return self.labels.get((kind, str(code)), str(code))


def load_labels(rows: list[dict], lang: str) -> dict[tuple[str, str], str]:
    """display_labels rows -> {(kind, code): name in ``lang``} (English where a name is empty)."""
    column = f"name_{lang}"
    return {(r["kind"], r["code"]): r.get(column) or r["name_en"] for r in rows}
