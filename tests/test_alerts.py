"""Alerts (ingest/run/alerts.py, ingest/run/notifiers.py; the rules are dbt's: model kpi_alerts,
seed alert_rules, unit tests in kpi_alerts.yml). Mail goes to a local SMTP sink (aiosmtpd, in its
own process group on a free port of 127.0.0.1), never to a real server: the nightly digest mails
new breaches once and a re-run mails nothing; the first sighting survives a full rebuild; without
recipients or a connection the step records and logs; a refusing server is a warning, never a
failed night; the failure notifier mails the DAG, task, night, error and log."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from markupsafe import escape

from ingest import cli
from ingest.config import Home
from ingest.run import alerts, dbt, freshness, pipeline

# The SMTP sink's fixtures (smtp_sink, mail_env).
pytest_plugins = ("tests.smtp_sink",)
# Built homes (built_home, published_world) behind every digest test.
pytestmark = pytest.mark.slow

NIGHT = dt.date(2026, 1, 5)


def _stale(home: Home, table: str, days: int) -> None:
    """The table's last delivery `days` ago (as if nothing had arrived since)."""
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute(f"UPDATE raw.{table} SET _loaded_at = (now() AT TIME ZONE 'UTC') - INTERVAL {days} DAY")


def _log(home: Home) -> dict:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        rows = con.execute("SELECT alert_key, first_seen_at, mailed_at, cleared_at FROM meta.alert_log").fetchall()
    return {key: (first, mailed, cleared) for key, first, mailed, cleared in rows}


def _first_seen(home: Home) -> dict:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return dict(con.execute("SELECT alert_key, first_seen_at FROM marts.kpi_alerts").fetchall())


def _html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_the_digest_mails_new_breaches_once_and_first_seen_survives_a_rebuild(built_home, mail_env):
    home, sink = built_home, mail_env
    events = "source_stale|SOURCE_FRESHNESS|clearance.clearance_events|last_delivery|"
    declarations = "source_stale|SOURCE_FRESHNESS|clearance.clearance_declarations|last_delivery|"
    # Night 1: the clearance events stopped arriving 5 days ago (window: 2 days).
    _stale(home, "clearance_events", 5)
    freshness.check(home, "night-1", log=lambda _: None)
    lines: list[str] = []
    first = alerts.run(home, "night-1", NIGHT, log=lines.append)
    assert first.digest.status == "sent" and first.digest.recipients == tuple(sink.recipients)
    breaches = {a.alert_key for a in first.open}
    assert any(k.startswith(events) for k in breaches) and not any(k.startswith(declarations) for k in breaches)
    assert {a.alert_key for a in first.new} == breaches and first.warning is None
    [mail] = sink.messages()
    assert mail["To"] == ", ".join(sink.recipients) and mail["From"] == "swpm@customs.example"
    assert (
        mail["Subject"].startswith(f"[swpm] {len(breaches)} new alert(s)") and "night of 2026-01-05" in mail["Subject"]
    )
    body = _html(mail)
    stale = next(a for a in first.open if a.alert_key.startswith(events))
    assert escape(stale.message) in body and "past its window of 2 days" in stale.message
    assert all(escape(a.message) in body for a in first.open[: alerts.DIGEST_LISTED])
    assert lines == [first.summary()] and "mailed to ops@customs.example" in lines[0]
    # Recorded: every breach first seen and mailed now; kpi_alerts shows the first sighting.
    log = _log(home)
    assert set(log) == breaches and all(
        first_seen and mailed and not cleared for first_seen, mailed, cleared in log.values()
    )
    seen = _first_seen(home)
    assert seen == {k: v[0] for k, v in log.items()}

    # The same night again: nothing new, nothing mailed.
    again = alerts.run(home, "night-1-rerun", NIGHT, log=lambda _: None)
    assert again.digest.status == "nothing new" and again.new == [] and len(sink.messages()) == 1

    # Rebuilding the mart and the models that read the alert log (a full refresh) keeps every
    # first sighting, and mails nothing either. (tests/test_rerun.py rebuilds every model.)
    dbt.run_dbt(home, "build", "--full-refresh", "--select", "kpi_alerts", "stg_meta__alert_log")
    assert _first_seen(home) == seen
    assert alerts.run(home, "after-rebuild", NIGHT, log=lambda _: None).digest.status == "nothing new"
    assert len(sink.messages()) == 1

    # Night 2: the declarations stop too, and nothing new arrives: the gate skips the build and
    # the publish, but still checks freshness and mails the new breach (and only that one).
    pipeline.publish(home, "published")
    _stale(home, "clearance_declarations", 3)
    quiet = pipeline.run(home, NIGHT + dt.timedelta(days=1), log=lambda _: None)
    assert quiet.skipped_reason == "snapshot already current" and quiet.outcomes == []
    assert pipeline.status(home)["runs"][0]["status"] == "skipped"
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        [(new_key, message, mailed_batch)] = con.execute(
            "SELECT alert_key, message, mailed_batch FROM meta.alert_log WHERE first_seen_batch = ?", [quiet.batch_id]
        ).fetchall()
    assert new_key.startswith(declarations) and mailed_batch == quiet.batch_id
    assert _digests(home)[-1][:2] == ("sent", 1)
    mails = sink.messages()
    assert len(mails) == 2 and mails[1]["Subject"].startswith("[swpm] 1 new alert(s)")
    assert escape(message) in _html(mails[1]) and escape(stale.message) not in _html(mails[1])
    assert _first_seen(home)[stale.alert_key] == seen[stale.alert_key]

    # Night 3: the events arrive again. Their breach clears; nothing is mailed.
    _stale(home, "clearance_events", 0)
    freshness.check(home, "night-3", log=lambda _: None)
    third = alerts.run(home, "night-3", NIGHT + dt.timedelta(days=2), log=lambda _: None)
    assert third.cleared == 1 and third.digest.status == "nothing new" and len(sink.messages()) == 2
    assert _log(home)[stale.alert_key][2] is not None  # cleared_at
    assert stale.alert_key not in _first_seen(home)


def _one_breach(home: Home) -> None:
    """A freshness check that found the clearance events 3 days old (as the freshness step
    records it), so kpi_alerts has a breach whatever else the sample holds."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute(
            "INSERT INTO meta.source_freshness VALUES (?, 'test', 'clearance.clearance_events', 'warn', ?, 72, "
            "'2 days', '')",
            [now, now - dt.timedelta(days=3)],
        )


def _digests(home: Home) -> list[tuple]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.execute("SELECT status, alerts, detail FROM meta.alert_digests ORDER BY attempted_at").fetchall()


def test_without_recipients_or_connection_the_step_records_and_logs(built_home, monkeypatch, tmp_path):
    home = built_home
    _one_breach(home)
    monkeypatch.delenv("SWPM_ALERT_EMAILS", raising=False)
    lines: list[str] = []
    report = alerts.run(home, "no-recipients", NIGHT, log=lines.append)
    n = len(report.open)
    assert n >= 1 and report.digest == alerts.Digest("not configured", n, (), "SWPM_ALERT_EMAILS is not set")
    assert report.warning is None and "not configured: SWPM_ALERT_EMAILS is not set" in lines[0]
    assert all(first and mailed is None for first, mailed, _ in _log(home).values())
    # Recipients, but no smtp_default connection (none in the environment, no metadata database).
    monkeypatch.setenv("SWPM_ALERT_EMAILS", "ops@customs.example")
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    report = alerts.run(home, "no-connection", NIGHT, log=lambda _: None)
    assert report.digest.status == "not configured" and "smtp_default is not defined" in report.digest.detail
    # The breaches waited: both attempts are recorded, and nothing counts as mailed.
    assert [(s, a) for s, a, _ in _digests(home)] == [("not configured", n), ("not configured", n)]
    assert all(mailed is None for _, mailed, _ in _log(home).values())
    # A warehouse built before kpi_alerts existed (the gate's quiet-night watch may meet one): the
    # step says so and records nothing, and the night goes on.
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute("DROP VIEW marts.kpi_alerts")
    lines.clear()
    assert alerts.run(home, "before-the-mart", NIGHT, log=lines.append).open == []
    assert "kpi_alerts is not built yet" in lines[0] and len(_digests(home)) == 2


def test_a_refusing_mail_server_is_a_warning_and_the_next_digest_has_the_breaches(built_home, monkeypatch, smtp_sink):
    home = built_home
    _one_breach(home)
    monkeypatch.setenv("SWPM_ALERT_EMAILS", smtp_sink.recipients[0])
    from tests.smtp_sink import free_port

    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_sink.connection(port=free_port()))  # nobody listens there
    ctx = pipeline.RunContext(home, "refused", NIGHT, log=lambda _: None)
    report = pipeline.run_step("alerts", ctx)  # returns: the night goes on
    assert report.digest.status == "failed" and "alert digest" in report.warning
    status = pipeline.status(home)
    assert status["runs"][0]["warnings"] == report.warning
    assert status["alerts"]["last_digest"]["status"] == "failed"
    # The server is back the next night: the breaches waited for it.
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_sink.connection())
    nxt = alerts.run(home, "next", NIGHT, log=lambda _: None)
    assert nxt.new == [] and nxt.digest.status == "sent" and nxt.digest.alerts == len(report.open)
    assert len(smtp_sink.messages()) == 1


def test_the_failure_notifier_mails_dag_task_night_error_and_log(mail_env):
    """FailureNotifier as the task runner calls it when a task has failed for good: a real
    RuntimeTaskInstance and the context keys Airflow 3 gives (ti, logical_date, exception)."""
    import pendulum
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    from ingest.run.notifiers import FailureNotifier

    ti = RuntimeTaskInstance.model_construct(
        dag_id="swpm_nightly",
        task_id="build",
        run_id="scheduled__2026-11-24T15:00:00+00:00",
        try_number=3,
        max_tries=2,
        map_index=-1,
    )
    error = RuntimeError("dbt build failed: trs_release_time: error Binder Error\n  LINE 4: select ...")
    context = {
        "ti": ti,
        "task_instance": ti,
        "run_id": ti.run_id,
        "logical_date": pendulum.datetime(2026, 11, 24, 15, tz="UTC"),  # 2026-11-25 00:00 in Seoul
        "exception": error,
    }
    FailureNotifier()(context)
    [mail] = mail_env.messages()
    assert mail["Subject"] == "[swpm] swpm_nightly failed: task build, night of 2026-11-25"
    assert mail["To"] == ", ".join(mail_env.recipients)
    body = _html(mail)
    for expected in (
        "swpm_nightly",
        "build",
        "after try 3 of 3",
        "RuntimeError: dbt build failed: trs_release_time: error Binder Error",
        "/dags/swpm_nightly/runs/scheduled__2026-11-24T15%3A00%3A00%2B00%3A00/tasks/build?try_number=3",
        "dag_id=swpm_nightly/run_id=scheduled__2026-11-24T15:00:00+00:00/task_id=build/attempt=3.log",
    ):
        assert expected in body, expected
    assert "LINE 4" not in body  # the first line only; the log has the rest


def test_the_failure_notifier_without_recipients_sends_nothing(smtp_sink, monkeypatch):
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    from ingest.run.notifiers import FailureNotifier

    monkeypatch.delenv("SWPM_ALERT_EMAILS", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_sink.connection())
    ti = RuntimeTaskInstance.model_construct(dag_id="swpm_nightly", task_id="check", run_id="r", try_number=1)
    FailureNotifier()({"ti": ti, "logical_date": None, "exception": ValueError("x")})
    assert smtp_sink.messages() == []


def test_the_night_records_publishes_and_shows_the_open_alerts(published_world, capsys):
    """The session's sample world ran every step of the night (without recipients): kpi_alerts
    is published with every breach's first sighting, the alert log matches, and `swpm status`
    and the report show the open alerts."""
    home = published_world.home
    with duckdb.connect(str(home.snapshot), read_only=True) as con:
        published = dict(con.execute("SELECT alert_key, first_seen_at FROM kpi_alerts").fetchall())
        rules = {r[0] for r in con.execute("SELECT DISTINCT alert_rule FROM kpi_alerts").fetchall()}
    assert published and all(published.values())
    assert rules <= {"sla_below_basic", "sla_below_minimum", "kpi_missed", "trs_median_rise", "cs_hit_rate_floor"}
    log = _log(home)
    assert {k: v[0] for k, v in log.items() if v[2] is None} == published
    status = pipeline.status(home)["alerts"]
    assert status["open"] == len(published) and status["last_digest"]["status"] == "not configured"
    assert cli.main(["--home", str(home.root), "status"]) == 0
    out = capsys.readouterr().out
    assert f"alerts: {len(published)} open" in out and "last digest" in out and "not configured" in out
    page = (home.serving / "report" / "index.html").read_text()
    assert f'id="open-alerts" data-alerts="{len(published)}"' in page
