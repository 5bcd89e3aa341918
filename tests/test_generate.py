"""The sample world: deterministic, calibrated to the case study, and within its own contract."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import pytest

from ingest.sample_world.clearance import generate, sample_days, simulate_day


def _release_frame(day: dt.date, n: int, seed: int = 1) -> pd.DataFrame:
    decl, events = simulate_day(day, n, seed)
    ev = events.to_pandas()
    ev["t"] = pd.to_datetime(ev.event_time)
    wide = ev.pivot_table(index="declaration_id", columns="event_type", values="t", aggfunc="min")
    channel = ev[ev.event_type == "CS_CHANNEL"].set_index("declaration_id").event_detail.rename("channel")
    df = decl.to_pandas().set_index("declaration_id").join(wide).join(channel)
    df["hours"] = (df.RELEASE - df.ARRIVAL).dt.total_seconds() / 3600
    return df


def test_same_seed_same_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for target in (a, b):
        generate(target, dt.date(2010, 3, 1), 2, 300, seed=11)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert sorted(f.name for f in a.iterdir()) == sorted(f.name for f in b.iterdir())
    for f in a.iterdir():
        assert digest(f) == digest(b / f.name)


def test_other_seed_other_data():
    d1, _ = simulate_day(dt.date(2010, 3, 1), 200, 1)
    d2, _ = simulate_day(dt.date(2010, 3, 1), 200, 2)
    assert not d1.equals(d2)


def test_second_generate_writes_nothing(tmp_path):
    assert len(generate(tmp_path, dt.date(2010, 3, 1), 2, 100)) == 2
    assert generate(tmp_path, dt.date(2010, 3, 1), 2, 100) == []


@pytest.mark.parametrize("year, low, high", [(2006, 3.4, 4.6), (2011, 1.2, 1.8), (2018, 1.1, 1.8)])
def test_air_import_release_time_follows_the_case_study(year, low, high):
    df = _release_frame(dt.date(year, 5, 1), 20000)
    air_imports = df[(df.transport_mode == "AIR") & (df.declaration_type == "IMPORT")]
    assert low <= air_imports.hours.mean() / 24 <= high


def test_inspection_channels_are_slower_and_extremes_exist():
    df = _release_frame(dt.date(2008, 5, 1), 30000)
    med = df.groupby("channel").hours.median()
    assert med["GREEN"] < med["YELLOW"] < med["RED"]
    assert 0 < (df.hours > 480).mean() < 0.03
    assert (df.hours < 0).any(), "pre-arrival releases exist"
    assert df.ARRIVAL.isna().any() and df.RELEASE.isna().any(), "some milestones are missing"
    assert set(df.transport_mode) == {"AIR", "SEA", "LAND"} and set(df.declaration_type) == {"IMPORT", "EXPORT"}


def test_sampled_period():
    days = sample_days(dt.date(2006, 1, 1), 365, days_per_month=1, month_step=3)
    assert days == [dt.date(2006, m, 1) for m in (1, 4, 7, 10)]


def test_generated_files_pass_their_contract():
    from ingest.gx import build_suite, validate_frame
    from ingest.landing.contracts import load_contracts

    decl, events = simulate_day(dt.date(2012, 2, 29), 500, 3)
    contracts = load_contracts()
    for kind, table in (("clearance_declarations", decl), ("clearance_events", events)):
        c = contracts[kind]
        df = table.to_pandas().replace({"": None})
        assert validate_frame(df, build_suite(kind, c.expectation_configs())) == []


def test_a_real_day_is_vectorised():
    """50,000 declarations in one call; the speed itself is measured by benchmarks, not here."""
    decl, events = simulate_day(dt.date(2015, 1, 1), 50000, 5)
    assert decl.num_rows == 50000
    assert events.num_rows > 6 * 50000
    assert np.unique(events.column("event_id").to_numpy()).size == events.num_rows
