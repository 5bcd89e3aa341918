"""Mail through Airflow's own SMTP notifier (apache-airflow-providers-smtp, ``SmtpNotifier``): the
notice of a failed task of the nightly DAG, and the alert step's digest. Both go to the addresses
in ``SWPM_ALERT_EMAILS`` (``ingest.run.mail.recipients``) through the Airflow connection
``smtp_default`` (set it in the UI, with ``airflow connections add``, or as the environment
variable ``AIRFLOW_CONN_SMTP_DEFAULT``). Without recipients nothing is sent.

Light on purpose: the DAG file imports ``FailureNotifier`` every time Airflow parses it (no DuckDB,
dbt or Great Expectations here)."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Sequence
from pathlib import Path

import jinja2
from airflow.providers.smtp.notifications.smtp import SmtpNotifier

from ingest.run.mail import ALERT_EMAILS_ENV, ALERT_FROM_ENV, first_line, recipients, render

LOCAL_TZ = "Asia/Seoul"  # the customs administration's clock: nights are named by it
SMTP_CONN_ID = "smtp_default"


def smtp_configured() -> str | None:
    """None when the smtp_default connection resolves; else why not, in words."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    try:
        SmtpHook.get_connection(SMTP_CONN_ID)
    except Exception as exc:  # AirflowNotFoundException, or no metadata database to ask
        return f"Airflow connection {SMTP_CONN_ID} is not defined ({type(exc).__name__}: {exc})"
    return None


def send(subject: str, html: str, to: Sequence[str]) -> None:
    """One mail through SmtpNotifier and the smtp_default connection. Sent as given: the body is
    already rendered (autoescaped), so it is not passed through Airflow's templating again."""
    notifier = SmtpNotifier(to=list(to), subject=subject, html_content=html, smtp_conn_id=SMTP_CONN_ID)
    notifier.from_email = _sender(notifier)
    notifier.notify({})


def _sender(notifier: SmtpNotifier) -> str:
    """SWPM_ALERT_FROM, else the connection's from_email, else swpm@<this host>."""
    if os.environ.get(ALERT_FROM_ENV):
        return os.environ[ALERT_FROM_ENV]
    connection = notifier.hook.get_connection(SMTP_CONN_ID)
    return connection.extra_dejson.get("from_email") or f"swpm@{socket.getfqdn()}"


def log_file(ti) -> str | None:
    """Where the task's log file is on the worker: [logging] base_log_folder and
    log_filename_template, as Airflow's file task handler names it."""
    try:
        from airflow.configuration import conf

        folder = conf.get("logging", "base_log_folder")
        name = jinja2.Template(conf.get("logging", "log_filename_template")).render(ti=ti, try_number=ti.try_number)
        return str(Path(folder) / name)
    except Exception:  # a custom template needing more context: the UI link still says where
        return None


def _night(logical_date) -> str:
    if logical_date is None:
        return "no logical date (a manual run)"
    if isinstance(logical_date, dt.datetime):
        from zoneinfo import ZoneInfo

        return logical_date.astimezone(ZoneInfo(LOCAL_TZ)).date().isoformat()
    return str(logical_date)


class FailureNotifier(SmtpNotifier):
    """The nightly DAG's ``on_failure_callback``: mails the DAG, the task, the night (logical
    date), the error's first line and where the log is, when a task has failed for good (Airflow
    calls ``on_retry_callback`` instead while retries remain). Without SWPM_ALERT_EMAILS it
    logs and sends nothing."""

    def __init__(self, **kwargs):
        # Recipients and the message are worked out when a task fails (notify), not at parse.
        super().__init__(to=[], smtp_conn_id=SMTP_CONN_ID, **kwargs)

    def failure_mail(self, context) -> tuple[str, str]:
        ti = context["ti"]
        task = ti.task_id + (f" [{ti.map_index}]" if getattr(ti, "map_index", -1) not in (None, -1) else "")
        night = _night(context.get("logical_date"))
        values = {
            "dag_id": ti.dag_id,
            "task": task,
            "night": night,
            "logical_date": str(context.get("logical_date")),
            "run_id": ti.run_id,
            "try_number": ti.try_number,
            "tries": getattr(ti, "max_tries", 0) + 1,
            "error": first_line(context.get("exception")),
            "log_url": getattr(ti, "log_url", None),
            "log_file": log_file(ti),
            "host": socket.getfqdn(),
            "home": os.environ.get("SWPM_HOME", "(SWPM_HOME not set)"),
        }
        subject = f"[swpm] {ti.dag_id} failed: task {task}, night of {night}"
        return subject, render("failure_mail.html.j2", **values)

    def notify(self, context):
        to = recipients()
        if not to:
            self.log.info("%s is not set: no failure mail sent", ALERT_EMAILS_ENV)
            return
        self.to = to
        self.from_email = _sender(self)
        self.subject, self.html_content = self.failure_mail(context)
        super().notify(context)
