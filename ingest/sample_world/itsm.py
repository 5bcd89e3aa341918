"""The sample world's IT operations: ITSM exports and the e-document processing log.

Three yearly exports per sample year, written in the style the real tools deliver:
- ``itsm_incidents_<instance>_<YYYYMMDD>.csv.gz``: a ServiceNow-style incident audit export, one row
  per update (``sys_mod_count``), '?' for missing, 'd/m/yyyy HH:MM' times without zero padding,
  coded labels. A year's file holds the updates made in that year, so an incident opened in
  December is finished in the next year's file.
- ``itsm_service_requests_<instance>_<YYYYMMDD>.csv.gz``: service requests (S/R) opened in the
  year or still open at its start, each in its state at export time (late and still-open ones
  included).
- ``edoc_processing_log_<YYYYMMDD>.csv.gz``: e-documents received in the year, with received and
  processed timestamps.
The export date (the file's data date) is 31 December, or the sample world's last day.

Calibration (docs/domain.md#sla-indicators and the seed's SLA table):
- export-declaration processing time around the seed's 9.5 / 10.5 / 11.5 s levels: slow at the
  launch (2006), inside the goal from 2009, a dip when the 4th-generation UNI-PASS went live
  (2016), recovered after (``EDOC_EXPORT_MEAN_SECONDS``);
- system failures (priority 1 and 2 incidents) about one a month at the launch, about one a year later
  (``failures_per_month``), restored in about 2 hours;
- S/R mostly completed by their due date, some late by days, a few by months (still open at a
  period end), and a worse year at the 2016 go-live (``sr_on_time_share``).
Deterministic: each year is simulated from (seed, year) alone; vectorised with numpy/pyarrow.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ingest.sample_world.files import write_gzip_bytes

SAMPLE_INSTANCE = "unipass"  # the sample world's ITSM instance (source_system)
MINUTE = 60
HOUR = 3600
DAY = 86400

INCIDENTS_PER_MONTH = 80  # ordinary (priority 3 and 4) incidents
SR_PER_MONTH = 40
EDOCS_PER_MONTH = 1500
# Mean processing time of export declarations by year, seconds (the seed's levels 9.5/10.5/11.5).
EDOC_EXPORT_MEAN_SECONDS = {
    2006: 11.9,
    2007: 11.1,
    2008: 10.2,
    2009: 9.4,
    2010: 9.2,
    2011: 9.1,
    2012: 9.0,
    2013: 9.0,
    2014: 8.9,
    2015: 8.9,
    2016: 10.9,
    2017: 9.8,
    2018: 9.2,
}
# Other document types relative to export declarations.
EDOC_TYPES = {
    "IMPORT_DECLARATION": (0.35, 1.05),
    "EXPORT_DECLARATION": (0.30, 1.00),
    "MANIFEST": (0.20, 0.80),
    "TRANSIT_DECLARATION": (0.05, 0.90),
    "OGA_PERMIT": (0.10, 1.20),
}
EDOC_STATUS = {"ACCEPTED": 0.952, "REJECTED": 0.040, "ERROR": 0.006, "PENDING": 0.002}
# Priority: (label, impact, urgency, SLA target hours, mean restore hours)
PRIORITIES = {
    1: ("1 - Critical", "1 - High", "1 - High", 2.0, 1.6),
    2: ("2 - High", "1 - High", "2 - Medium", 8.0, 2.2),
    3: ("3 - Moderate", "2 - Medium", "2 - Medium", 24.0, 14.0),
    4: ("4 - Low", "3 - Low", "3 - Low", 72.0, 30.0),
}
SR_CATEGORIES = [
    "Category 1 - Program change",
    "Category 2 - Data correction",
    "Category 3 - Report request",
    "Category 4 - Account and access",
    "Category 5 - Infrastructure",
]


def failures_per_month(year: int) -> float:
    """Mean system failures a month: about one at the launch, about one a year once mature
    (the seed's levels are 0 / 1 / 2 cases), more again at the 2016 go-live."""
    if year == 2016:
        return 0.5
    return max(1.0 - 0.15 * (year - 2006), 0.1)


def sr_on_time_share(year: int) -> float:
    """Share of S/R completed by their due date: the seed's 96-100 % levels leave little room."""
    if year == 2016:
        return 0.975
    return min(0.955 + 0.006 * (year - 2006), 0.996)


@dataclass(frozen=True)
class ItsmFiles:
    year: int
    export_date: dt.date
    paths: tuple[Path, ...]
    rows: dict


def _rng(seed: int, year: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, year, stream, 3])


def _epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _month_starts(year: int) -> np.ndarray:
    return np.array([_epoch(dt.date(year, m, 1)) for m in range(1, 13)] + [_epoch(dt.date(year + 1, 1, 1))])


def _uniform_in_months(rng, year: int, counts: np.ndarray) -> np.ndarray:
    bounds = _month_starts(year)
    month = np.repeat(np.arange(12), counts)
    return bounds[month] + (rng.random(month.size) * (bounds[month + 1] - bounds[month])).astype(np.int64)


def _servicenow_time(seconds: np.ndarray) -> pa.Array:
    """'d/m/yyyy HH:MM' without zero padding of day and month, as ServiceNow exports it."""
    ts = pa.array(seconds.astype("datetime64[s]"), pa.timestamp("s"))
    text = pc.strftime(ts, format="%d/%m/%Y %H:%M")
    text = pc.replace_substring_regex(text, pattern=r"^0(\d)/", replacement=r"\1/")
    return pc.replace_substring_regex(text, pattern=r"/0(\d)/", replacement=r"/\1/")


def _servicenow_date(seconds: np.ndarray) -> pa.Array:
    """'d/m/yyyy' without zero padding."""
    return pc.extract_regex(_servicenow_time(seconds), r"^(?P<d>\S+)").field("d")


def _with_missing(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    return np.where(present, values, "?")


def _csv_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=True, quoting_style="none"))
    return sink.getvalue()


# --------------------------------------------------------------------------- incidents


def simulate_incidents(year: int, seed: int) -> dict[str, np.ndarray]:
    """Every incident opened in ``year``, with the times of its updates (not yet cut to an export)."""
    rng = _rng(seed, year, 1)
    fails = rng.poisson(failures_per_month(year), 12)
    others = rng.poisson(INCIDENTS_PER_MONTH, 12)
    opened = np.concatenate([_uniform_in_months(rng, year, fails), _uniform_in_months(rng, year, others)])
    n_fail = int(fails.sum())
    n = opened.size
    priority = np.where(
        np.arange(n) < n_fail, np.where(rng.random(n) < 0.3, 1, 2), np.where(rng.random(n) < 0.75, 3, 4)
    )
    mean_restore = np.array([0, *(p[4] for p in PRIORITIES.values())])[priority]
    restore = rng.lognormal(np.log(mean_restore) - 0.5 * 0.8**2, 0.8) * HOUR
    restore = np.clip(restore, 5 * MINUTE, 40 * DAY).astype(np.int64)
    order = np.argsort(opened, kind="stable")
    return {
        "seq": np.arange(1, n + 1),
        "opened": opened[order],
        "priority": priority[order],
        "restore": restore[order],
        "reopened": (rng.random(n) < 0.03)[order],
        "updates": rng.integers(3, 7, n)[order],
        "caller": rng.integers(1, 5000, n)[order],
        "group": rng.integers(1, 80, n)[order],
        "category": rng.integers(1, 60, n)[order],
        "location": rng.integers(1, 200, n)[order],
        "phone": (rng.random(n) < 0.97)[order],
        "u": rng.random((n, 8)),
    }


def incident_rows(year: int, seed: int) -> pa.Table:
    """The updates of the incidents opened in ``year`` (all of them, in time order)."""
    s = simulate_incidents(year, seed)
    n = s["opened"].size
    k = s["updates"]
    inc = np.repeat(np.arange(n), k)
    step = np.arange(inc.size) - np.repeat(np.cumsum(k) - k, k)  # 0..k-1 within an incident
    last = step == k[inc] - 1
    resolved_step = k[inc] - 2
    opened = s["opened"][inc]
    resolved_at = s["opened"] + s["restore"]
    closed_at = resolved_at + 5 * DAY  # auto-closed five days after resolution
    frac = np.where(step == 0, 0.002, step / np.maximum(resolved_step, 1))
    updated = np.where(
        last,
        closed_at[inc],
        np.where(step >= resolved_step, resolved_at[inc], opened + (frac * s["restore"][inc]).astype(np.int64)),
    )
    updated = np.maximum(updated, opened + 60 * (step > 0))
    state = np.where(
        step == 0,
        "New",
        np.where(
            last,
            "Closed",
            np.where(step == resolved_step, "Resolved", np.where(s["u"][inc, 0] < 0.2, "Awaiting User Info", "Active")),
        ),
    )
    is_resolved = step >= resolved_step
    label = np.array(["", *(p[0] for p in PRIORITIES.values())])
    impact = np.array(["", *(p[1] for p in PRIORITIES.values())])
    urgency = np.array(["", *(p[2] for p in PRIORITIES.values())])
    target = np.array([0, *(p[3] for p in PRIORITIES.values())])[s["priority"]] * HOUR
    breached = s["restore"] > target
    # made_sla turns false once the target passes unresolved.
    made_sla = ~(breached[inc] & (updated > opened + target[inc].astype(np.int64)))
    pr = s["priority"][inc]
    ids = np.char.add(f"INC{year}", np.char.zfill(s["seq"].astype(str), 5))[inc]
    reopen = np.where(s["reopened"][inc] & is_resolved, 1, 0)
    u = s["u"][inc]
    table = pa.table(
        {
            "number": ids,
            "incident_state": state,
            "active": np.where(last, "false", "true"),
            "reassignment_count": (np.minimum(step, 1) * (u[:, 1] < 0.4) + (u[:, 2] < 0.1)).astype(str),
            "reopen_count": reopen.astype(str),
            "sys_mod_count": step.astype(str),
            "made_sla": np.where(made_sla, "true", "false"),
            "caller_id": np.char.add("Caller ", s["caller"][inc].astype(str)),
            "opened_by": np.char.add("Opened by  ", (s["caller"][inc] % 200).astype(str)),
            "opened_at": _servicenow_time(opened),
            "sys_created_by": np.char.add("Created by ", (s["caller"][inc] % 150).astype(str)),
            "sys_created_at": _servicenow_time(opened),
            "sys_updated_by": np.char.add("Updated by ", (u[:, 3] * 900).astype(int).astype(str)),
            "sys_updated_at": _servicenow_time(updated),
            "contact_type": np.where(s["phone"][inc], "Phone", "Email"),
            "location": np.char.add("Location ", s["location"][inc].astype(str)),
            "category": np.char.add("Category ", s["category"][inc].astype(str)),
            "subcategory": np.char.add("Subcategory ", (s["category"][inc] * 3 + 1).astype(str)),
            "u_symptom": _with_missing(
                np.char.add("Symptom ", (s["category"][inc] * 7 % 500).astype(str)), u[:, 4] < 0.9
            ),
            "cmdb_ci": np.full(inc.size, "?"),
            "impact": impact[pr],
            "urgency": urgency[pr],
            "priority": label[pr],
            "assignment_group": np.char.add("Group ", s["group"][inc].astype(str)),
            "assigned_to": _with_missing(np.char.add("Resolver ", (s["group"][inc] * 3).astype(str)), step > 0),
            "knowledge": np.where(u[:, 5] < 0.2, "true", "false"),
            "u_priority_confirmation": np.where(u[:, 6] < 0.27, "true", "false"),
            "notify": np.where(s["phone"][inc], "Do Not Notify", "Send Email"),
            "problem_id": np.full(inc.size, "?"),
            "rfc": np.full(inc.size, "?"),
            "vendor": np.full(inc.size, "?"),
            "caused_by": np.full(inc.size, "?"),
            "closed_code": _with_missing(np.char.add("code ", (1 + s["category"][inc] % 16).astype(str)), last),
            "resolved_by": _with_missing(np.char.add("Resolved by ", (s["group"][inc] * 2).astype(str)), is_resolved),
            "resolved_at": pa.array(
                _with_missing(np.asarray(_servicenow_time(resolved_at[inc]), dtype=object), is_resolved), pa.string()
            ),
            "closed_at": pa.array(
                _with_missing(np.asarray(_servicenow_time(closed_at[inc]), dtype=object), last), pa.string()
            ),
        }
    )
    return table.append_column("_updated", pa.array(updated, pa.int64()))


# --------------------------------------------------------------------------- service requests


def simulate_service_requests(year: int, seed: int) -> dict[str, np.ndarray]:
    rng = _rng(seed, year, 2)
    counts = rng.poisson(SR_PER_MONTH, 12)
    opened = np.sort(_uniform_in_months(rng, year, counts))
    n = opened.size
    # Office hours: shift opening times into 09:00-18:00.
    opened = opened - opened % DAY + (9 * HOUR + (rng.random(n) * 9 * HOUR)).astype(np.int64)
    lead_days = rng.integers(2, 15, n)
    due_day = (opened - opened % DAY) + lead_days * DAY  # midnight of the due date
    on_time = rng.random(n) < sr_on_time_share(year)
    long_delay = rng.random(n) < 0.05  # of the late ones: months rather than days
    delay_days = np.where(long_delay, rng.integers(20, 120, n), rng.geometric(0.6, n))
    completed = np.where(
        on_time,
        opened + (rng.random(n) * (due_day + DAY - 1 - opened)).astype(np.int64),
        due_day + delay_days * DAY + (9 * HOUR + rng.random(n) * 9 * HOUR).astype(np.int64),
    )
    cancelled = rng.random(n) < 0.01
    return {
        "seq": np.arange(1, n + 1),
        "opened": opened,
        "due_day": due_day,
        "completed": completed,
        "cancelled": cancelled,
        "category": rng.integers(0, len(SR_CATEGORIES), n),
        "started": opened + (rng.random(n) * DAY).astype(np.int64),
    }


def service_request_rows(year: int, seed: int, export_at: int, since: int) -> pa.Table:
    """Requests opened in ``year`` up to the export, or open at ``since``, as they stand at ``export_at``."""
    s = simulate_service_requests(year, seed)
    keep = (s["opened"] <= export_at) & (s["completed"] >= since)
    done = s["completed"] <= export_at
    started = s["started"] <= export_at
    state = np.where(
        done,
        np.where(s["cancelled"], "4 - Closed Cancelled", "3 - Closed Complete"),
        np.where(started, "2 - Work in Progress", "1 - Open"),
    )
    ids = np.char.add(f"SR{year}", np.char.zfill(s["seq"].astype(str), 5))
    completed = np.asarray(_servicenow_time(s["completed"]), dtype=object)
    table = pa.table(
        {
            "number": ids,
            "opened_at": _servicenow_time(s["opened"]),
            "due_date": _servicenow_date(s["due_day"]),
            "completed_at": pa.array(np.where(done & ~s["cancelled"], completed, "?"), pa.string()),
            "state": state,
            "category": np.array(SR_CATEGORIES)[s["category"]],
        }
    )
    return table.filter(pa.array(keep))


# --------------------------------------------------------------------------- e-documents


def edoc_rows(year: int, seed: int, start: int, export_at: int) -> pa.Table:
    rng = _rng(seed, year, 3)
    counts = rng.poisson(EDOCS_PER_MONTH, 12)
    received = np.sort(_uniform_in_months(rng, year, counts)) * 1000 + rng.integers(0, 1000, counts.sum())
    received = received[(received >= start * 1000) & (received <= export_at * 1000)]
    n = received.size
    names = list(EDOC_TYPES)
    shares = np.array([EDOC_TYPES[t][0] for t in names])
    kind = rng.choice(len(names), n, p=shares / shares.sum())
    factor = np.array([EDOC_TYPES[t][1] for t in names])[kind]
    month = (received // 1000 - _month_starts(year)[0]) // (31 * DAY)  # month drift, not exact months
    month_effect = rng.lognormal(0.0, 0.03, 13)[np.clip(month, 0, 12)]
    mean = EDOC_EXPORT_MEAN_SECONDS.get(year, 9.2) * factor * month_effect
    sigma = 0.45
    seconds = rng.lognormal(np.log(mean) - 0.5 * sigma**2, sigma)
    status_names = list(EDOC_STATUS)
    status = np.array(status_names)[rng.choice(len(status_names), n, p=list(EDOC_STATUS.values()))]
    processed = received + np.round(seconds * 1000).astype(np.int64)
    pending = (status == "PENDING") | (processed > export_at * 1000)
    status = np.where(pending, "PENDING", status)
    day_text = pc.strftime(pa.array((received // 1000).astype("datetime64[s]"), pa.timestamp("s")), format="%Y%m%d")
    ids = pc.binary_join_element_wise("ED", day_text, pa.array(np.char.zfill(np.arange(1, n + 1).astype(str), 8)), "")
    ms = pa.timestamp("ms")
    fmt = "%Y-%m-%d %H:%M:%S"
    proc_text = pc.strftime(pa.array(processed.astype("datetime64[ms]"), ms), format=fmt)
    return pa.table(
        {
            "document_id": ids,
            "document_type": np.array(names)[kind],
            "received_at": pc.strftime(pa.array(received.astype("datetime64[ms]"), ms), format=fmt),
            "processed_at": pc.if_else(pa.array(pending), pa.scalar(None, pa.string()), proc_text),
            "status": status,
        }
    )


# --------------------------------------------------------------------------- files


def export_dates(start: dt.date, end: dt.date) -> list[dt.date]:
    """One export a year: 31 December, or the last day of the sample world."""
    return [min(dt.date(y, 12, 31), end) for y in range(start.year, end.year + 1)]


def write_year(
    landing: Path, year: int, start: dt.date, end: dt.date, seed: int, instance: str = SAMPLE_INSTANCE
) -> ItsmFiles:
    """The three exports of ``year`` (files that exist already are left as they are)."""
    export_date = min(dt.date(year, 12, 31), end)
    stamp = export_date.strftime("%Y%m%d")
    export_at = _epoch(export_date) + DAY - 1
    year_start = max(_epoch(dt.date(year, 1, 1)), _epoch(start))
    targets = {
        "incidents": landing / f"itsm_incidents_{instance}_{stamp}.csv.gz",
        "service_requests": landing / f"itsm_service_requests_{instance}_{stamp}.csv.gz",
        "edocs": landing / f"edoc_processing_log_{stamp}.csv.gz",
    }
    rows = {}
    if not targets["incidents"].exists():
        parts = [incident_rows(y, seed) for y in (year - 1, year) if y >= start.year]
        table = pa.concat_tables(parts)
        opened_ok = pc.greater_equal(
            pc.strptime(table["opened_at"], format="%d/%m/%Y %H:%M", unit="s"),
            pa.scalar(dt.datetime.fromtimestamp(_epoch(start), dt.UTC).replace(tzinfo=None), pa.timestamp("s")),
        )
        upd = table["_updated"]
        mask = pc.and_(pc.and_(pc.greater_equal(upd, year_start), pc.less_equal(upd, export_at)), opened_ok)
        table = table.filter(mask)
        table = table.take(
            pc.sort_indices(table, [("_updated", "ascending"), ("number", "ascending"), ("sys_mod_count", "ascending")])
        ).drop_columns(["_updated"])
        write_gzip_bytes(targets["incidents"], _csv_bytes(table))
        rows["incidents"] = table.num_rows
    if not targets["service_requests"].exists():
        parts = [service_request_rows(y, seed, export_at, year_start) for y in (year - 1, year) if y >= start.year]
        table = pa.concat_tables(parts)
        opened = pc.strptime(table["opened_at"], format="%d/%m/%Y %H:%M", unit="s")
        table = table.filter(
            pc.greater_equal(opened, pa.scalar(dt.datetime(start.year, start.month, start.day), pa.timestamp("s")))
        )
        write_gzip_bytes(targets["service_requests"], _csv_bytes(table))
        rows["service_requests"] = table.num_rows
    if not targets["edocs"].exists():
        table = edoc_rows(year, seed, year_start, export_at)
        write_gzip_bytes(targets["edocs"], _csv_bytes(table))
        rows["edocs"] = table.num_rows
    return ItsmFiles(year, export_date, tuple(targets.values()), rows)


def generate(landing: Path, start: dt.date, end: dt.date, seed: int) -> list[ItsmFiles]:
    landing.mkdir(parents=True, exist_ok=True)
    return [write_year(landing, y, start, end, seed) for y in range(start.year, end.year + 1)]
