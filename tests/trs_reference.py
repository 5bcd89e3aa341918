"""An independent computation of TRS release-time statistics, straight from the landed files
(pandas + numpy, no DuckDB, no dbt), to check the marts against."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def declarations_from_landing(landing: Path) -> pd.DataFrame:
    decl = pd.concat([pd.read_csv(p, dtype=str) for p in sorted(landing.glob("clearance_declarations_*.csv.gz"))])
    ev = pd.concat(
        [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(landing.glob("clearance_events_*.csv.gz"))]
    )
    ev["t"] = pd.to_datetime(ev.event_time)
    first = ev.groupby(["declaration_id", "event_type"]).t.min().unstack()
    last = ev.groupby(["declaration_id", "event_type"]).t.max().unstack()
    cs = ev[ev.event_type == "CS_CHANNEL"].sort_values("t").groupby("declaration_id").event_detail.last()
    df = decl.set_index("declaration_id")
    df["arrival"] = first["ARRIVAL"]
    df["lodgement"] = first["LODGEMENT"]
    df["release"] = last["RELEASE"]
    df["channel"] = cs.str.lower().reindex(df.index).fillna("unknown")
    df["hours"] = (df.release - df.arrival).dt.total_seconds() / 3600
    df["reference_date"] = df.arrival.fillna(df.lodgement).dt.normalize()
    df["declaration_type"] = df.declaration_type.str.lower()
    df["transport_mode"] = df.transport_mode.str.lower()
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
