"""Security: no secret in the repository, the snapshot read-only for readers, and no SQL built
from what a file holds or how it is named (docs/operations.md#security)."""

from __future__ import annotations

import gzip
import re
import subprocess

import duckdb
import pytest

from ingest.run import pipeline
from ingest.serving.headline import headline
from tests.conftest import PROJECT

# Strings that look like credentials. A value counts as a placeholder (allowed) when it reads
# as one: an environment lookup, a template, or words saying it is not a secret.
SECRET_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),  # GitHub token
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),  # Slack token
    re.compile(r"\bsk-[A-Za-z0-9]{32,}\b"),  # API secret keys of several vendors
    re.compile(
        r"(?i)(?<![a-z])(password|passwd|secret|api_?key|token|pseudonym_key)\b[\"']?\s*[:=]\s*[\"']([^\"'\s]{8,})[\"']"
    ),
    re.compile(r"(?i)\b[a-z]+://[^/\s:@]+:([^@\s/]{6,})@"),  # credentials inside a URL
]
PLACEHOLDER = re.compile(r"(?i)example|placeholder|not-a-secret|changeme|dummy|your[-_]|<|\$\{|\$\(|environ|getenv|xxx")


def find_secrets(text: str) -> list[str]:
    hits = []
    for pattern in SECRET_PATTERNS:
        for m in pattern.finditer(text):
            if not PLACEHOLDER.search(m.group(0)):
                hits.append(m.group(0)[:60])
    return hits


def test_the_scanner_finds_planted_secrets():
    planted = [
        "-----BEGIN RSA " + "PRIVATE KEY-----",
        "AKIA" + "Q3EXAMPL3KEY1234",
        'password = "' + "hunter2hunter2" + '"',
        "postgresql://swpm:" + "s3cr3tpw@db/swpm",
        "SWPM_PSEUDONYM_KEY: '" + "9f8e7d6c5b4a39281706" + "'",
    ]
    for text in planted:
        assert find_secrets(text), text
    assert not find_secrets('password = os.environ["SWPM_DB_PASSWORD"]')
    assert not find_secrets("SWPM_PSEUDONYM_KEY: '<a long random secret>'")


def test_no_secret_in_tracked_files():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT, capture_output=True, check=True).stdout.split(b"\0")
    assert len(files) > 20
    findings = []
    for name in filter(None, files):
        path = PROJECT / name.decode()
        if path.suffix in {".gz", ".xlsx", ".parquet", ".duckdb", ".png", ".lock"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        findings += [f"{name.decode()}: {hit}" for hit in find_secrets(text)]
    assert findings == [], "secrets belong in the environment or an Airflow connection: " + "; ".join(findings)
    tracked = {n.decode() for n in files}
    assert not {".env", "airflow.cfg", ".airflow/airflow.cfg"} & tracked


def test_readers_open_the_snapshot_read_only(home, monkeypatch):
    con = duckdb.connect(str(home.snapshot))
    con.execute("CREATE TABLE trs_release_time AS SELECT 1 AS x")
    con.close()
    opened = []
    real = duckdb.connect
    monkeypatch.setattr(duckdb, "connect", lambda path, **kw: opened.append((str(path), kw)) or real(path, **kw))
    with pytest.raises(duckdb.Error):  # the table lacks the headline's columns; the open is what counts
        headline(home)
    assert opened and all(kw.get("read_only") for p, kw in opened if p.endswith("marts.duckdb"))
    reader = real(str(home.snapshot), read_only=True)
    try:
        with pytest.raises(duckdb.Error, match="(?i)read.only"):
            reader.execute("CREATE TABLE tampered AS SELECT 1")
    finally:
        reader.close()


HEADER = "declaration_id,declaration_type,transport_mode,customs_office,declarant_id,aeo_flag,oga_required,pre_arrival_flag,declared_value_krw"


def test_file_content_is_never_pasted_into_sql(home):
    """Values and names that are SQL end up as data or as a clear refusal, never as statements."""
    injected = "x'); DROP TABLE meta.file_manifest; --"
    text = (
        HEADER + f'\nIM200601030000001,IMPORT,AIR,040,"{injected}",N,N,N,1000\n'
        f'IM200601030000002,IMPORT,AIR,040,BR00002,N,N,N,"1); DROP TABLE raw.clearance_events; --"\n'
    )
    (home.landing / "clearance_declarations_20060103.csv.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
    [o] = pipeline.load(home, "b1")
    assert o.status == "quarantined" and o.reason_code == "out_of_contract"
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM meta.file_manifest").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM raw.clearance_events").fetchone()[0] == 0
    finally:
        con.close()


def _mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_delivered_files_are_kept_owner_only(home, sample_landing, tmp_path, capsys):
    """landing/, quarantine/ and archive/ hold files as delivered, clear identifiers included:
    created 0700, and every file swpm writes there 0600 (docs/operations.md#security)."""
    import datetime as dt

    from ingest import cli
    from ingest.sample_world.clearance import generate

    assert {f.name: _mode(f) for f in home.private_folders} == {"landing": 0o700, "quarantine": 0o700, "archive": 0o700}
    generate(home.landing, dt.date(2006, 1, 1), 1, 20, seed=3)  # the sample world's drops
    delivered = sample_landing / "clearance_events_20110601.csv.gz"
    assert cli.main(["--home", str(home.root), "land", str(delivered)]) == 0
    # A file copied in by hand with the usual umask: owner-only once the loader has seen it.
    loose = home.landing / "clearance_declarations_20110601.csv.gz"
    loose.write_bytes((sample_landing / loose.name).read_bytes())
    loose.chmod(0o644)
    (home.landing / "clearance_events_20110602.csv.gz").write_bytes(b"not gzip")
    outcomes = {o.file_name: o.status for o in pipeline.load(home, "b1")}
    assert list(outcomes.values()).count("quarantined") == 1
    files = [p for folder in home.private_folders for p in folder.iterdir()]
    assert {p.parent.name for p in files} == {"landing", "quarantine", "archive"}
    assert {p.relative_to(home.root).as_posix(): _mode(p) for p in files} == {
        p.relative_to(home.root).as_posix(): 0o600 for p in files
    }
    # A folder opened to others by hand is named by `swpm status`.
    home.quarantine.chmod(0o755)
    capsys.readouterr()
    cli.main(["--home", str(home.root), "status"])
    assert f"EXPOSED {home.quarantine} (mode 755)" in capsys.readouterr().out
