"""The alert step (after freshness, before the mart checks): what the mart ``kpi_alerts`` shows is
recorded in the alert log (``meta.alert_log``: first seen, last seen, cleared, mailed), and the
breaches no digest has told yet are mailed in one digest to ``SWPM_ALERT_EMAILS`` through
Airflow's SMTP notifier (``ingest/run/notifiers.py``, connection ``smtp_default``).

- A re-run sends nothing twice: a breach is mailed once, and the alert log keeps that.
- Never fails the night: without recipients or an smtp_default connection the step records and
  logs, and the breaches wait for the first digest that can go; a mail server that refuses is a
  warning on the run (``swpm status``), and the breaches go in the next night's digest.
- At least once: a crash between the mail and its record mails those breaches again next night.
- The rules and thresholds are dbt's (seed ``alert_rules``, model ``kpi_alerts``): docs/alerts.md.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from ingest.config import Home
from ingest.run.mail import ALERT_EMAILS_ENV, recipients, render
from ingest.warehouse import connect

# A digest lists this many breaches, the most severe and most recent first; the rest are
# counted, and every one is in kpi_alerts and `swpm status`. (Presentation, not a threshold.)
DIGEST_LISTED = 50
SEVERITY_ORDER = {"critical": 0, "warning": 1}


@dataclass(frozen=True)
class Alert:
    alert_key: str
    alert_rule: str
    severity: str
    indicator: str
    subject: str
    indicator_name: str | None
    period_type: str
    period_start: dt.date | None
    value: float | None
    unit: str | None
    threshold: float | None
    baseline: float | None
    message: str
    first_seen_at: dt.datetime | None

    @property
    def period(self) -> str:
        if self.period_start is None:
            return ""
        if self.period_type == "month":
            return f"{self.period_start:%Y-%m}"
        if self.period_type == "year":
            return f"{self.period_start:%Y}"
        return f"last delivery {self.period_start:%Y-%m-%d}"


ALERT_COLUMNS = tuple(f.name for f in fields(Alert))


@dataclass(frozen=True)
class Digest:
    status: str  # sent | not configured | failed | nothing new
    alerts: int
    recipients: tuple[str, ...] = ()
    detail: str = ""


@dataclass
class AlertsReport:
    open: list[Alert]  # every breach kpi_alerts shows now
    new: list[Alert]  # first seen by this run
    cleared: int  # breaches this run no longer finds
    digest: Digest
    by_severity: dict[str, int] = field(default_factory=dict)

    @property
    def warning(self) -> str | None:
        """What the run log keeps (ingest.run.pipeline.run_step): a digest that could not go."""
        if self.digest.status == "failed":
            return f"alert digest of {self.digest.alerts} breach(es) not sent: {self.digest.detail}"
        return None

    def summary(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.by_severity.items(), key=lambda i: SEVERITY_ORDER[i[0]]))
        line = f"alerts: {len(self.open)} open ({counts or 'none'}), {len(self.new)} new, {self.cleared} cleared"
        d = self.digest
        if d.status == "sent":
            return f"{line}; digest of {d.alerts} mailed to {', '.join(d.recipients)}"
        if d.status == "nothing new":
            return f"{line}; nothing new to mail"
        return f"{line}; digest of {d.alerts} {d.status}: {d.detail}"


def _alerts(con, where: str = "") -> list[Alert]:
    rows = con.execute(f"SELECT {', '.join(ALERT_COLUMNS)} FROM marts.kpi_alerts {where}").fetchall()
    return sorted((Alert(*r) for r in rows), key=_digest_order)


def _digest_order(a: Alert):
    return (SEVERITY_ORDER.get(a.severity, 9), -(a.period_start or dt.date.min).toordinal(), a.alert_key)


def _built(home: Home) -> bool:
    with connect(home, read_only=True) as con:
        return bool(
            con.execute(
                "SELECT count(*) FROM duckdb_views() WHERE schema_name = 'marts' AND view_name = 'kpi_alerts'"
            ).fetchone()[0]
        )


def observe(home: Home, batch_id: str, now: dt.datetime) -> tuple[list[Alert], list[Alert], int, list[Alert]]:
    """Record what kpi_alerts shows in the alert log. Returns (open, new, cleared, unmailed):
    every breach now, the ones first seen now, how many cleared, and the open ones no digest
    has told yet."""
    with connect(home) as con:
        con.execute("BEGIN")
        known = "SELECT alert_key FROM meta.alert_log"
        current = "SELECT alert_key FROM marts.kpi_alerts"
        con.execute(
            f"UPDATE meta.alert_log SET last_seen_at = $now, cleared_at = NULL WHERE alert_key IN ({current})",
            {"now": now},
        )
        cleared = con.execute(
            f"""UPDATE meta.alert_log SET cleared_at = $now
                WHERE cleared_at IS NULL AND alert_key NOT IN ({current}) RETURNING alert_key""",
            {"now": now},
        ).fetchall()
        new_keys = {
            r[0]
            for r in con.execute(
                f"""INSERT INTO meta.alert_log (alert_key, alert_rule, severity, period_start, message,
                                               first_seen_at, first_seen_batch, last_seen_at)
                    SELECT alert_key, alert_rule, severity, period_start, message, $now, $batch, $now
                    FROM marts.kpi_alerts WHERE alert_key NOT IN ({known})
                    RETURNING alert_key""",
                {"now": now, "batch": batch_id},
            ).fetchall()
        }
        con.execute("COMMIT")
        current_alerts = _alerts(con)
        unmailed = {
            r[0] for r in con.execute("SELECT alert_key FROM meta.alert_log WHERE mailed_at IS NULL").fetchall()
        }
    new = [a for a in current_alerts if a.alert_key in new_keys]
    return current_alerts, new, len(cleared), [a for a in current_alerts if a.alert_key in unmailed]


def digest_mail(alerts: list[Alert], home: Home, batch_id: str, logical_date: dt.date | None) -> tuple[str, str]:
    """The digest's subject and HTML body."""
    severities = Counter(a.severity for a in alerts)
    critical = f" ({severities['critical']} critical)" if severities["critical"] else ""
    night = logical_date.isoformat() if logical_date else "a manual run"
    subject = f"[swpm] {len(alerts)} new alert(s){critical}, night of {night}"
    html = render(
        "alert_digest.html.j2",
        alerts=alerts[:DIGEST_LISTED],
        more=max(len(alerts) - DIGEST_LISTED, 0),
        by_rule=sorted(Counter((a.severity, a.alert_rule) for a in alerts).items(), key=lambda i: _rule_order(i[0])),
        night=night,
        batch_id=batch_id,
        home=str(home.root),
        report=str(home.serving / "report" / "index.html"),
        snapshot=str(home.snapshot),
    )
    return subject, html


def _rule_order(key: tuple[str, str]):
    return SEVERITY_ORDER.get(key[0], 9), key[1]


def send_digest(home: Home, batch_id: str, alerts: list[Alert], logical_date: dt.date | None) -> Digest:
    """Mail the breaches no digest told yet, in one mail; never raises."""
    if not alerts:
        return Digest("nothing new", 0)
    to = tuple(recipients())
    if not to:
        return Digest("not configured", len(alerts), detail=f"{ALERT_EMAILS_ENV} is not set")
    from ingest.run import notifiers  # imports Airflow: only when there is a mail to send

    missing = notifiers.smtp_configured()
    if missing:
        return Digest("not configured", len(alerts), to, missing)
    try:
        notifiers.send(*digest_mail(alerts, home, batch_id, logical_date), to=to)
    except Exception as exc:  # the mail server is down, refuses, ...: tomorrow's digest has them
        return Digest("failed", len(alerts), to, f"{type(exc).__name__}: {exc}"[:500])
    return Digest("sent", len(alerts), to)


def record_digest(home: Home, batch_id: str, digest: Digest, alerts: list[Alert], now: dt.datetime) -> None:
    with connect(home) as con:
        con.execute("BEGIN")
        con.execute(
            "INSERT INTO meta.alert_digests VALUES ($at, $batch, $status, $n, $to, $detail)",
            {
                "at": now,
                "batch": batch_id,
                "status": digest.status,
                "n": digest.alerts,
                "to": ", ".join(digest.recipients) or None,
                "detail": digest.detail or None,
            },
        )
        if digest.status == "sent":
            con.executemany(
                "UPDATE meta.alert_log SET mailed_at = ?, mailed_batch = ? WHERE alert_key = ?",
                [[now, batch_id, a.alert_key] for a in alerts],
            )
        con.execute("COMMIT")


def run(
    home: Home, batch_id: str, logical_date: dt.date | None = None, log: Callable[[str], None] = print
) -> AlertsReport:
    """The alert step: record what kpi_alerts shows, then mail what no digest told yet."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if not _built(home):  # e.g. a warehouse built before this mart existed: the next build makes it
        log("alerts: the mart kpi_alerts is not built yet (swpm build makes it); nothing recorded")
        return AlertsReport([], [], 0, Digest("nothing new", 0))
    current, new, cleared, unmailed = observe(home, batch_id, now)
    digest = send_digest(home, batch_id, unmailed, logical_date)
    if digest.status != "nothing new":
        record_digest(home, batch_id, digest, unmailed, dt.datetime.now(dt.UTC).replace(tzinfo=None))
    report = AlertsReport(current, new, cleared, digest, dict(Counter(a.severity for a in current)))
    log(report.summary())
    return report


def open_alerts(con, limit: int = 10) -> dict:
    """The open breaches as the latest alert step left them, and the latest digest (``swpm
    status``): from the alert log, so they show whatever state the marts are in."""
    counts = dict(
        con.execute("SELECT severity, count(*) FROM meta.alert_log WHERE cleared_at IS NULL GROUP BY 1").fetchall()
    )
    latest = [
        dict(zip(("severity", "alert_rule", "message", "first_seen_at", "mailed_at"), r))
        for r in con.execute(
            """SELECT severity, alert_rule, message, first_seen_at, mailed_at FROM meta.alert_log
               WHERE cleared_at IS NULL
               ORDER BY CASE severity WHEN 'critical' THEN 0 ELSE 1 END, first_seen_at DESC,
                        period_start DESC NULLS LAST, alert_key
               LIMIT $limit""",
            {"limit": limit},
        ).fetchall()
    ]
    digest = con.execute(
        """SELECT attempted_at, status, alerts, recipients, detail FROM meta.alert_digests
           ORDER BY attempted_at DESC LIMIT 1"""
    ).fetchone()
    return {
        "open": sum(counts.values()),
        "by_severity": counts,
        "latest": latest,
        "last_digest": dict(zip(("attempted_at", "status", "alerts", "recipients", "detail"), digest))
        if digest
        else None,
    }
