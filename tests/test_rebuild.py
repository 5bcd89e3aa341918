"""`swpm rebuild` when the manifest's journal is gone too: the kept files alone give back the
same raw rows and the same loaded files, the quarantine records come back from the reason files,
and the rebuild says what it could not know. (With the journal, the rebuild of a whole world to
the same marts is in tests/test_reliability.py.)"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.run import pipeline
from ingest.run.rebuild import rebuild


def _raw_and_manifest(home) -> tuple[dict, set, set]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        raw = {
            kind: con.execute(f"SELECT * EXCLUDE (_batch_id, _loaded_at) FROM raw.{kind} ORDER BY ALL").fetchall()
            for kind in ("clearance_declarations", "clearance_events")
        }
        loaded = set(con.execute("SELECT file_name, sha256 FROM meta.file_manifest WHERE status = 'loaded'").fetchall())
        quarantined = set(
            con.execute(
                "SELECT file_name, sha256, reason_code FROM meta.file_manifest WHERE status = 'quarantined'"
            ).fetchall()
        )
        return raw, loaded, quarantined
    finally:
        con.close()


def test_without_the_journal_the_kept_files_alone_rebuild_the_warehouse(home, sample_landing):
    for f in sorted(sample_landing.glob("clearance_*_2006010[12].csv.gz")):
        (home.landing / f.name).write_bytes(f.read_bytes())
    (home.landing / "clearance_events_20060103.csv.gz").write_bytes(b"not gzip at all")
    pipeline.load(home, "first")
    before = _raw_and_manifest(home)
    assert len(before[1]) == 4 and {q[2] for q in before[2]} == {"not_gzip"}
    with open(home.warehouse, "r+b") as fh:  # damaged, and the journal lost with it
        fh.truncate(home.warehouse.stat().st_size // 3)
    home.manifest_journal.unlink()
    lines = []
    report = rebuild(home, log=lines.append, build=False)
    assert report.mode == "files" and report.reloaded == 4 and report.quarantine_records == 1
    assert report.set_aside and Path(report.set_aside).exists(), "the damaged file is kept aside"
    assert _raw_and_manifest(home) == before
    said = "\n".join(lines)
    assert "from the kept files alone" in said and "could not know which files had been loaded" in said
    assert "load times" in said and "not restored: the run log" in said
    # The home is whole again: a new journal, and the next run finds nothing new.
    assert home.manifest_journal.exists()
    assert pipeline.load(home, "after") == []
