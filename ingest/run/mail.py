"""Who the alert mails go to and how they read: the recipients (``SWPM_ALERT_EMAILS``), the
templates (``templates/*.html.j2``, autoescaped) and an error's first line. No Airflow here: the
alert step asks for recipients before it imports Airflow's notifier (ingest/run/notifiers.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import jinja2

ALERT_EMAILS_ENV = "SWPM_ALERT_EMAILS"
ALERT_FROM_ENV = "SWPM_ALERT_FROM"  # optional; else the connection's from_email, else swpm@<host>

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def recipients() -> list[str]:
    """The alert recipients (comma, semicolon or space separated), read when a mail is due, so
    the environment of the process that sends counts (an Airflow worker, ``swpm run``)."""
    return [a for a in re.split(r"[,;\s]+", os.environ.get(ALERT_EMAILS_ENV, "")) if a]


def render(template: str, **values) -> str:
    return _templates.get_template(template).render(**values)


def first_line(error) -> str:
    """The error's first line, with its type: what a person reads before opening the log."""
    if error is None:
        # e.g. killed, timed out, or `airflow dags test`, whose in-process runner (Airflow 3.1)
        # does not put the exception in the callback's context
        return "(Airflow passed no exception to the callback: the log has the error)"
    text = str(error).strip().splitlines()
    if isinstance(error, BaseException):
        return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
    return text[0] if text else "(empty error message)"
