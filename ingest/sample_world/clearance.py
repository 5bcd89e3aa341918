"""The sample world: what UNI-PASS-like clearance systems would drop each night.

Deterministic (a seed per cohort day, so any day is reproducible on its own) and vectorised
(numpy over whole days; one real day of 50,000 declarations takes a few seconds).

Calibration, from the case study (shared/seeds; docs/domain.md#time-release-study):
- air-cargo import release time (arrival to release) about 4 days in 2006 falling to about
  1.5 days from 2011 onwards (``target_air_import_hours``);
- yellow (documentary check) and red (physical inspection) channels slower than green;
- a small share of extreme delays (``EXTREME_DELAY_SHARE``);
- pre-arrival lodgement, rising over the years, which makes arrival->lodgement negative;
- missing milestones where real logs have them (``MISSING``).
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

HOUR = 3600.0

# Sample-world customs offices (codes are this project's, not KCS's) and their share of work
# per mode.
OFFICES = {
    "AIR": (["040", "041", "010"], [0.7, 0.2, 0.1]),
    "SEA": (["030", "020", "050", "060"], [0.45, 0.25, 0.2, 0.1]),
    "LAND": (["010", "050", "070"], [0.5, 0.3, 0.2]),
}
MODE_SHARE = {"AIR": 0.45, "SEA": 0.45, "LAND": 0.10}
# Release time relative to air imports of the same year.
MODE_FACTOR = {"AIR": 1.0, "SEA": 1.6, "LAND": 0.7}
EXPORT_FACTOR = 0.35
IMPORT_SHARE = 0.6
EXTREME_DELAY_SHARE = 0.004
EXTREME_DELAY_DAYS = (20, 60)
OGA_SHARE = 0.18
GREEN_ON_ACCEPTANCE = 0.6
MISSING = {  # probability that a milestone is absent from the log
    "ARRIVAL": 0.01,
    "RELEASE": 0.005,
    "GATE_OUT": 0.03,
}


def target_air_import_hours(year: int) -> float:
    """Mean air-cargo import release time the sample world aims for in a year."""
    if year <= 2006:
        return 96.0
    if year >= 2011:
        return 36.0 - min(year - 2011, 7) * 0.3
    return 96.0 + (36.0 - 96.0) * (year - 2006) / 5.0


def channel_shares(year: int) -> tuple[float, float, float]:
    """Green/yellow/red shares: targeting matures, so fewer inspections over time."""
    progress = min(max(year - 2006, 0), 10) / 10.0
    red = 0.10 - 0.05 * progress
    yellow = 0.15 - 0.07 * progress
    return 1.0 - red - yellow, yellow, red


def pre_arrival_share(year: int) -> float:
    return 0.05 + 0.30 * min(max(year - 2006, 0), 8) / 8.0


@dataclass(frozen=True)
class DayFiles:
    day: dt.date
    declarations: Path
    events: Path
    declarations_count: int
    events_count: int


def _lognormal(rng: np.random.Generator, mean: np.ndarray, sigma: float) -> np.ndarray:
    """Lognormal draws with the given arithmetic means."""
    mu = np.log(np.maximum(mean, 1e-9)) - sigma**2 / 2
    return rng.lognormal(mu, sigma)


def simulate_day(day: dt.date, n: int, seed: int) -> tuple[pa.Table, pa.Table]:
    """Declarations and milestone events of one cohort day, as Arrow tables of strings."""
    rng = np.random.default_rng([seed, day.toordinal()])
    year = day.year

    is_import = rng.random(n) < IMPORT_SHARE
    modes = np.array(list(MODE_SHARE))
    mode = rng.choice(modes, size=n, p=list(MODE_SHARE.values()))
    office = np.empty(n, dtype=object)
    for m, (codes, shares) in OFFICES.items():
        sel = mode == m
        office[sel] = rng.choice(codes, size=int(sel.sum()), p=shares)
    aeo = rng.random(n) < min(0.05 + 0.02 * max(year - 2006, 0), 0.30)
    oga = rng.random(n) < OGA_SHARE
    pre_arrival = rng.random(n) < pre_arrival_share(year)

    g, y, r = channel_shares(year)
    u = rng.random(n)
    red_share = np.where(aeo, r * 0.3, r)
    channel = np.where(u < red_share, "RED", np.where(u < red_share + y, "YELLOW", "GREEN"))

    # Mean release time of this declaration's segment of the world, before channel effects.
    mode_factor = np.vectorize(MODE_FACTOR.get)(mode)
    base = target_air_import_hours(year) * mode_factor * np.where(is_import, 1.0, EXPORT_FACTOR)
    base = base * np.where(aeo, 0.7, 1.0)
    # Share of the total spent in each part; channel multipliers are normalised so that the
    # yearly mix keeps the air-import mean on target.
    chan_mult = np.select([channel == "GREEN", channel == "YELLOW"], [0.3, 1.8], 3.0)
    mix = g * 0.3 + y * 1.8 + r * 3.0
    chan_mult = chan_mult / mix
    # Pre-arrival lodgement (about -18 h instead of +45 % of the total) and green releases on
    # acceptance shorten the mean; scale up so the yearly air-import mean stays on target.
    p_pre = pre_arrival_share(year)
    green_loss = 0.47 * g * (0.3 / mix) * (1 - OGA_SHARE) * GREEN_ON_ACCEPTANCE
    base = (base + 18.0 * p_pre * base / target_air_import_hours(year)) / (1 - 0.45 * p_pre - green_loss)

    # Goods arrive at any time of the cohort day.
    day_start = np.datetime64(day.isoformat(), "s").astype(np.int64)
    arrival = day_start + rng.integers(0, 86400, n)

    to_lodgement = _lognormal(rng, 0.45 * base, 0.7) * HOUR
    to_lodgement = np.where(pre_arrival, -rng.uniform(0.5, 36.0, n) * HOUR, to_lodgement)
    lodgement = arrival + to_lodgement
    acceptance = lodgement + _lognormal(rng, 0.08 * base, 0.8) * HOUR
    processing = _lognormal(rng, 0.47 * base * chan_mult, 0.8) * HOUR
    extreme = rng.random(n) < EXTREME_DELAY_SHARE
    # The extreme delays are kept out of the calibration: they are the tail TRS reports apart.
    processing = np.where(extreme, processing + rng.uniform(*EXTREME_DELAY_DAYS, n) * 24 * HOUR, processing)
    release = acceptance + processing
    # Green lane: acceptance of the declaration is the release, when nothing else waits.
    green_now = (channel == "GREEN") & ~oga & (rng.random(n) < GREEN_ON_ACCEPTANCE)
    release = np.where(green_now, acceptance, release)
    gate_out = release + _lognormal(rng, np.full(n, 6.0), 1.0) * HOUR

    cs_time = acceptance + rng.uniform(1, 120, n)
    inspected = channel != "GREEN"
    insp_start = acceptance + (release - acceptance) * rng.uniform(0.05, 0.3, n)
    insp_end = insp_start + (release - insp_start) * rng.uniform(0.5, 0.95, n)
    violation = inspected & (rng.random(n) < np.where(channel == "RED", 0.12, 0.05))
    oga_permit = lodgement + (release - lodgement) * rng.uniform(0.2, 0.9, n)
    payment = acceptance + (release - acceptance) * rng.uniform(0.0, 0.9, n)
    has_payment = is_import & ~(aeo & (rng.random(n) < 0.5))  # AEO monthly payment: no event

    prefix = np.where(is_import, "IM", "EX")
    seq = np.char.zfill(np.arange(1, n + 1).astype(str), 7)
    decl_id = np.char.add(np.char.add(prefix.astype(str), day.strftime("%Y%m%d")), seq)

    yn = lambda a: np.where(a, "Y", "N")  # noqa: E731
    declarant = np.char.add("BR", np.char.zfill(rng.integers(1, 4000, n).astype(str), 5))
    value = np.round(_lognormal(rng, np.full(n, 3.0e7), 1.5)).astype(np.int64)
    declarations = pa.table(
        {
            "declaration_id": decl_id,
            "declaration_type": np.where(is_import, "IMPORT", "EXPORT"),
            "transport_mode": mode,
            "customs_office": office.astype(str),
            "declarant_id": declarant,
            "aeo_flag": yn(aeo),
            "oga_required": yn(oga),
            "pre_arrival_flag": yn(pre_arrival),
            "declared_value_krw": value.astype(str),
        }
    )

    present = {
        "ARRIVAL": rng.random(n) >= MISSING["ARRIVAL"],
        "LODGEMENT": np.ones(n, bool),
        "ACCEPTANCE": np.ones(n, bool),
        "CS_CHANNEL": np.ones(n, bool),
        "INSPECTION_START": inspected,
        "INSPECTION_END": inspected,
        "OGA_PERMIT": oga,
        "PAYMENT": has_payment,
        "RELEASE": rng.random(n) >= MISSING["RELEASE"],
    }
    present["GATE_OUT"] = present["RELEASE"] & (rng.random(n) >= MISSING["GATE_OUT"])
    times = {
        "ARRIVAL": arrival,
        "LODGEMENT": lodgement,
        "ACCEPTANCE": acceptance,
        "CS_CHANNEL": cs_time,
        "INSPECTION_START": insp_start,
        "INSPECTION_END": insp_end,
        "OGA_PERMIT": oga_permit,
        "PAYMENT": payment,
        "RELEASE": release,
        "GATE_OUT": gate_out,
    }
    details = {
        "CS_CHANNEL": channel,
        "INSPECTION_END": np.where(violation, "VIOLATION", "CLEAR"),
    }
    ids, types, stamps, detail = [], [], [], []
    for event_type, mask in present.items():
        idx = np.nonzero(mask)[0]
        ids.append(idx)
        types.append(np.full(idx.size, event_type, dtype=object))
        stamps.append(np.floor(times[event_type][idx]).astype(np.int64))
        detail.append(details[event_type][idx] if event_type in details else np.full(idx.size, "", dtype=object))
    idx = np.concatenate(ids)
    etype = np.concatenate(types)
    stamp = np.concatenate(stamps)
    edetail = np.concatenate(detail)
    # Logs come in the order things happened; a stable sort keeps ties deterministic.
    order = np.lexsort((idx, stamp))
    idx, etype, stamp, edetail = idx[order], etype[order], stamp[order], edetail[order]
    # Event sequence per declaration, in time order.
    by_decl = np.lexsort((stamp, idx))
    seq_no = np.empty(idx.size, dtype=np.int64)
    sorted_idx = idx[by_decl]
    starts = np.r_[0, np.nonzero(np.diff(sorted_idx))[0] + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, sorted_idx.size]))
    seq_no[by_decl] = np.arange(sorted_idx.size) - run_start + 1

    event_decl = decl_id[idx]
    event_id = np.char.add(np.char.add(event_decl, "-"), np.char.zfill(seq_no.astype(str), 2))
    ts = pa.array(stamp.astype("datetime64[s]"), type=pa.timestamp("s"))
    events = pa.table(
        {
            "event_id": event_id,
            "declaration_id": event_decl,
            "event_type": etype.astype(str),
            "event_time": pc.strftime(ts, format="%Y-%m-%d %H:%M:%S"),
            "event_detail": pa.array(edetail.astype(str)),
        }
    )
    return declarations, events


def _csv_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=True, quoting_style="needed"))
    return sink.getvalue()


def sample_days(start: dt.date, days: int, days_per_month: int | None = None, month_step: int = 1) -> list[dt.date]:
    """The cohort days to generate: ``days`` consecutive days from ``start``; with
    ``days_per_month``, only the first that many days of each month; with ``month_step`` N,
    only every Nth month counted from the start's month (a sampled period)."""
    span = [start + dt.timedelta(days=i) for i in range(days)]
    if days_per_month:
        span = [d for d in span if d.day <= days_per_month]
    if month_step > 1:
        span = [d for d in span if ((d.year - start.year) * 12 + d.month - start.month) % month_step == 0]
    return span


def generate(
    landing: Path,
    start: dt.date,
    days: int,
    declarations_per_day: int,
    seed: int = 20060101,
    days_per_month: int | None = None,
    month_step: int = 1,
    progress=None,
) -> list[DayFiles]:
    """Write the nightly clearance-log drops of the chosen days into ``landing``."""
    return generate_days(
        landing, sample_days(start, days, days_per_month, month_step), declarations_per_day, seed, progress
    )


def generate_days(
    landing: Path, chosen: list[dt.date], declarations_per_day: int, seed: int, progress=None
) -> list[DayFiles]:
    """Write the clearance-log drops of ``chosen`` days. A day whose two files already exist is
    left alone, so a second run is cheap and changes nothing (the same seed gives byte-identical
    files anyway)."""
    landing.mkdir(parents=True, exist_ok=True)
    out: list[DayFiles] = []
    for i, day in enumerate(chosen):
        stamp = day.strftime("%Y%m%d")
        decl_path = landing / f"clearance_declarations_{stamp}.csv.gz"
        event_path = landing / f"clearance_events_{stamp}.csv.gz"
        if decl_path.exists() and event_path.exists():
            continue
        declarations, events = simulate_day(day, declarations_per_day, seed)
        # Events first, declarations last: a reader that sees the declarations file of a day
        # can rely on its events being complete.
        write_gzip_bytes(event_path, _csv_bytes(events))
        write_gzip_bytes(decl_path, _csv_bytes(declarations))
        out.append(DayFiles(day, decl_path, event_path, declarations.num_rows, events.num_rows))
        if progress:
            progress(i + 1, len(chosen), day)
    return out
