"""The report in Korean (`swpm report --lang ko`), the names of codes from display_labels, and the
CSV and XLSX downloads beside each page, from the session's published world (copied: its users
only read it)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess

import pytest

from ingest.config import Home
from ingest.serving import report
from ingest.serving.report import page
from ingest.serving.report.snapshot import Snapshot
from tests.test_report import ALL_CHARTS, _parse, _render, assert_drawn_whole


@pytest.fixture(scope="module")
def served(published_world, tmp_path_factory):
    """A copy of the published world's serving folder, with the Korean page written into it."""
    home = Home.resolve(tmp_path_factory.mktemp("report_ko") / "home").ensure()
    shutil.copy2(published_world.home.snapshot, home.snapshot)
    shutil.copy2(published_world.home.snapshot_info, home.snapshot_info)
    return home, report.build_report(home), report.build_report(home, "ko")


def test_the_korean_page_is_korean_throughout(served):
    home, english, korean = served
    assert korean == home.serving / "report" / "ko" / "index.html"
    text = korean.read_text(encoding="utf-8")
    assert '<html lang="ko">' in text and "단일창구 성과 보고서" in text
    tables = _parse(korean)
    assert tables.states == {cid: "ok" for cid in ALL_CHARTS}
    assert tables.tables["air-import-release"][0][:3] == ["연도", "신고 건수", "반출 건수"]
    # Names of codes in Korean (display_labels): modes, parties, SLA indicators.
    assert tables.tables["release-by-mode"][0][1:] == ["항공 중앙값(일)", "해상 중앙값(일)", "육상 중앙값(일)"]
    assert {r[1] for r in tables.tables["actor-time"][1]} >= {"세관", "화주·관세사", "터미널"}
    assert "서비스 가용률" in {r[0] for r in tables.tables["sla-attainment"][1]}
    # Every string the page shows has a translation (texts/ko.yml).
    with Snapshot(home.snapshot) as snap:
        words = page.words_for(snap, "ko")
        page.render(home, page.build_charts(snap, words), snap.info, words)
    assert words.untranslated == set()
    # The pages link each other, and the documentation from one folder further down.
    assert 'href="../index.html"' in text and 'href="ko/index.html"' in english.read_text(encoding="utf-8")


def test_an_unknown_language_is_refused_before_anything_is_written(served, tmp_path):
    from ingest.serving.report.texts import UnknownLanguage

    home = Home.resolve(tmp_path / "home").ensure()
    with pytest.raises(UnknownLanguage, match="en, ko, not 'fr'"):
        report.build_report(home, "fr")
    assert not (home.serving / "report").exists()


def test_every_table_has_csv_and_xlsx_downloads_beside_its_page(served):
    from openpyxl import load_workbook

    home, english, korean = served
    for path in (english, korean):
        parsed = _parse(path)
        text = path.read_text(encoding="utf-8")
        for chart_id, (header, rows) in parsed.tables.items():
            assert f'href="tables/{chart_id}.csv" download' in text and f'href="tables/{chart_id}.xlsx"' in text
            raw = (path.parent / "tables" / f"{chart_id}.csv").read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf"), chart_id  # a BOM: spreadsheets read Korean right
            lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
            assert lines[0] == header and len(lines) == len(rows) + 1, chart_id
            sheet = load_workbook(path.parent / "tables" / f"{chart_id}.xlsx", read_only=True).active
            cells = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
            assert [str(v) for v in cells[0]] == header and len(cells) == len(rows) + 1, chart_id
            # The same values in both (the workbook keeps 15 significant digits); numbers stay
            # numbers in the workbook.
            for xlsx_row, csv_row in zip(cells[1:], lines[1:]):
                for x, c in zip(xlsx_row, csv_row):
                    number = isinstance(x, int | float) and not isinstance(x, bool)
                    assert x == pytest.approx(float(c), rel=1e-14) if number else str(x) == c, chart_id
            assert any(isinstance(v, int | float) for row in cells[1:] for v in row), chart_id
    assert sorted(p.name for p in (english.parent / "tables").iterdir()) == sorted(
        f"{cid}.{ext}" for cid in ALL_CHARTS for ext in ("csv", "xlsx")
    )


def _hangul_fonts() -> str:
    res = subprocess.run(["fc-list", ":lang=ko", "family"], capture_output=True, text=True)
    return res.stdout.strip()


@pytest.mark.browser
def test_browser_renders_the_korean_page_with_a_hangul_font(served, tmp_path):
    assert _hangul_fonts(), "no font with Hangul: `make test` installs Debian's fonts-noto-cjk (the chromium target)"
    _, _, korean = served
    errors, charts, hangul_em = _render(korean, tmp_path, "ko.html")
    assert errors == ""
    assert_drawn_whole(charts)
    assert hangul_em > 0.8  # a real Hangul glyph, not a missing-glyph box
    # The same page on a machine without a Hangul font: the probe tells.
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>"
    )
    _, _, without = _render(korean, tmp_path, "ko-no-font.html", env=dict(os.environ, FONTCONFIG_FILE=str(conf)))
    assert without < 0.6
