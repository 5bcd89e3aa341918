"""An independent computation of TRS release-time statistics, straight from the landed files
(pandas + numpy, no DuckDB, no dbt), to check the marts against."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd


def _events(landing: Path) -> pd.DataFrame:
    ev = pd.concat(
        [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(landing.glob("clearance_events_*.csv.gz"))]
    )
    ev["t"] = pd.to_datetime(ev.event_time)
    return ev


def declarations_from_landing(landing: Path) -> pd.DataFrame:
    decl = pd.concat([pd.read_csv(p, dtype=str) for p in sorted(landing.glob("clearance_declarations_*.csv.gz"))])
    ev = _events(landing)
    first = ev.groupby(["declaration_id", "event_type"]).t.min().unstack()
    last = ev.groupby(["declaration_id", "event_type"]).t.max().unstack()
    cs = ev[ev.event_type == "CS_CHANNEL"].sort_values("t").groupby("declaration_id").event_detail.last()
    df = decl.set_index("declaration_id")
    df["arrival"] = first["ARRIVAL"]
    df["lodgement"] = first["LODGEMENT"]
    df["release"] = last["RELEASE"]
    df["gate_out"] = last["GATE_OUT"]
    df["channel"] = cs.str.lower().reindex(df.index).fillna("unknown")
    df["hours"] = (df.release - df.arrival).dt.total_seconds() / 3600
    df["reference_date"] = df.arrival.fillna(df.lodgement).dt.normalize()
    df["declaration_type"] = df.declaration_type.str.lower()
    df["transport_mode"] = df.transport_mode.str.lower()
    # The data horizon: the latest event time in the files; an unreleased declaration's age at it.
    df.attrs["horizon"] = ev.t.max()
    df["age_hours"] = np.where(
        df.arrival.notna() & df.release.isna(), (df.attrs["horizon"] - df.arrival).dt.total_seconds() / 3600, np.nan
    )
    return df.reset_index()


def stats(df: pd.DataFrame) -> dict:
    h = df.hours.dropna().to_numpy()
    return {
        "declarations": len(df),
        "released": h.size,
        "median_hours": float(np.quantile(h, 0.5)),
        "p90_hours": float(np.quantile(h, 0.9)),
        "mean_hours": float(h.mean()),
    }


def kaplan_meier(df: pd.DataFrame, limit_hours: float) -> dict:
    """The Kaplan-Meier estimate in exact fractions: released declarations are events at their
    release time, unreleased ones younger than ``limit_hours`` at the horizon are censored at
    their age, events counted before censoring at the same second. Returns the counts, the
    step function [(seconds, share released)] and the quantile function."""
    released = df.hours.dropna().to_numpy()
    waiting = df.age_hours[df.age_hours < limit_hours].to_numpy()
    times = sorted(
        [(round(h * 3600), True) for h in released] + [(round(h * 3600), False) for h in waiting],
        key=lambda x: (x[0], not x[1]),
    )
    at_risk, survival, steps, i = len(times), Fraction(1), [], 0
    while i < len(times):
        t = times[i][0]
        same = [e for s, e in times[i:] if s == t]
        events = sum(same)
        if events:
            survival *= 1 - Fraction(events, at_risk)
            steps.append((t, 1 - survival))
        at_risk -= len(same)
        i += len(same)

    def quantile_hours(share: float):
        return next((t / 3600 for t, f in steps if f >= Fraction(share).limit_denominator(1000)), None)

    def released_share(hours: float) -> float:
        return float(max((f for t, f in steps if t <= hours * 3600), default=Fraction(0)))

    return {
        "still_waiting": int(waiting.size),
        "release_not_logged": int((df.age_hours >= limit_hours).sum()),
        "km_median_hours": quantile_hours(0.5),
        "km_p90_hours": quantile_hours(0.9),
        "released_share": released_share,
    }


def today_stats(landing: Path, as_of, waiting_days: int = 30) -> pd.DataFrame:
    """trs_today's rows per transport mode and overall ('ALL') as of ``as_of`` (Korea time): the
    releases logged since midnight, and the cargo that arrived within ``waiting_days`` and is not
    released by then (a release logged later counts as not happened yet)."""
    d = declarations_from_landing(landing)
    now = pd.Timestamp(as_of)
    released = d[(d.release >= now.normalize()) & (d.release <= now)]
    waiting = d[
        (d.arrival <= now)
        & (d.arrival > now - pd.Timedelta(days=waiting_days))
        & (d.release.isna() | (d.release > now))
    ]
    rows = []
    modes = sorted(set(released.transport_mode) | set(waiting.transport_mode))
    for mode in ["ALL", *modes]:
        r = released if mode == "ALL" else released[released.transport_mode == mode]
        w = waiting if mode == "ALL" else waiting[waiting.transport_mode == mode]
        hours = r.hours.dropna().to_numpy()
        ages = ((now - w.arrival).dt.total_seconds() / 3600).to_numpy()
        rows.append(
            {
                "transport_mode": mode,
                "released": len(r),
                "median_release_hours": float(np.quantile(hours, 0.5)) if hours.size else np.nan,
                "p90_release_hours": float(np.quantile(hours, 0.9)) if hours.size else np.nan,
                "waiting": len(w),
                "waiting_median_age_hours": float(np.median(ages)) if ages.size else np.nan,
                "waiting_max_age_hours": float(ages.max()) if ages.size else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("transport_mode")


def assert_today_matches(snapshot_path: Path, expected: pd.DataFrame) -> None:
    """The published trs_today's mode and overall rows equal ``expected`` (``today_stats``)."""
    import duckdb
    import pytest

    con = duckdb.connect(str(snapshot_path), read_only=True)
    try:
        got = con.execute(
            f"""SELECT transport_mode, {", ".join(expected.columns)}
                FROM trs_today WHERE grouping_set IN ('all', 'mode')"""
        ).df()
    finally:
        con.close()
    got = got.set_index("transport_mode")
    assert sorted(got.index) == sorted(expected.index)
    for mode, row in expected.iterrows():
        for column, value in row.items():
            if pd.isna(value):
                assert pd.isna(got.loc[mode, column]), (mode, column)
            else:
                assert got.loc[mode, column] == pytest.approx(value, abs=1e-3), (mode, column)
