"""The censoring-aware TRS marts of the session's published world against an independent
computation from its landed files (tests/trs_reference.py: pandas and exact fractions, no
DuckDB, no dbt): cargo still waiting, Kaplan-Meier median and p90 of a rollup and of a group,
the release curve, and who holds the time."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest
import yaml

from tests.conftest import PROJECT
from tests.trs_reference import declarations_from_landing, kaplan_meier

LIMIT_HOURS = yaml.safe_load((PROJECT / "dbt_project" / "dbt_project.yml").read_text())["vars"][
    "trs_still_waiting_limit_hours"
]

GROUPS = [
    (
        "year 2011, everything (rollup)",
        "period_type = 'year' AND period_start = '2011-01-01' AND grouping_set = 'period'",
        lambda d: d[d.reference_date.dt.year == 2011],
    ),
    (
        "year 2011, sea imports",
        "period_type = 'year' AND period_start = '2011-01-01' AND grouping_set = 'period+type+mode' "
        "AND declaration_type = 'import' AND transport_mode = 'sea'",
        lambda d: d[
            (d.reference_date.dt.year == 2011) & (d.declaration_type == "import") & (d.transport_mode == "sea")
        ],
    ),
    (
        "month 2006-01, everything (rollup)",
        "period_type = 'month' AND period_start = '2006-01-01' AND grouping_set = 'period'",
        lambda d: d[d.reference_date.dt.strftime("%Y-%m") == "2006-01"],
    ),
]


@pytest.fixture(scope="module")
def world(published_world):
    home = published_world.home
    con = duckdb.connect(str(home.snapshot), read_only=True)
    yield con, declarations_from_landing(home.landing)
    con.close()


def _one(con, sql):
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, (sql, rows)
    return dict(zip(names, rows[0]))


@pytest.mark.parametrize("label, where, select", GROUPS, ids=[g[0] for g in GROUPS])
def test_kaplan_meier_matches_an_independent_computation(world, label, where, select):
    con, declarations = world
    expected = kaplan_meier(select(declarations), LIMIT_HOURS)
    row = _one(
        con,
        "SELECT released, still_waiting, release_not_logged, median_hours, km_median_hours, km_p90_hours "
        f"FROM trs_release_time WHERE {where}",
    )
    assert row["still_waiting"] == expected["still_waiting"], label
    assert row["release_not_logged"] == expected["release_not_logged"], label
    assert row["km_median_hours"] == pytest.approx(expected["km_median_hours"], abs=1e-4), label
    assert row["km_p90_hours"] == pytest.approx(expected["km_p90_hours"], abs=1e-4), label
    curve = con.execute(f"SELECT hours, released_share FROM trs_release_curve WHERE {where} ORDER BY hours").fetchall()
    assert len(curve) == 12, label
    for hours, share in curve:
        assert share == pytest.approx(expected["released_share"](hours), abs=1e-6), (label, hours)


def test_the_sample_world_has_cargo_still_waiting_and_its_median_moves(world):
    """The censoring is exercised: the latest cohorts hold unreleased cargo younger than the limit
    (still waiting) and the first ones older (release not logged), and counting it moves the
    Kaplan-Meier median of the latest year above the released-only lower middle value."""
    con, declarations = world
    rows = dict(
        con.execute(
            "SELECT year(period_start), still_waiting FROM trs_release_time "
            "WHERE period_type = 'year' AND grouping_set = 'period'"
        ).fetchall()
    )
    assert rows[2011] > 0 and rows[2006] == 0
    latest = declarations[declarations.reference_date.dt.year == 2011]
    released = sorted(latest.hours.dropna())
    km = kaplan_meier(latest, LIMIT_HOURS)["km_median_hours"]
    assert km > released[(len(released) - 1) // 2]


def test_who_holds_the_time_adds_up_and_the_trader_time_is_arrival_to_lodgement(world):
    con, declarations = world
    d = declarations[
        (declarations.reference_date.dt.year == 2011)
        & declarations.arrival.notna()
        & declarations.release.notna()
        & (declarations.gate_out > declarations.arrival)
    ]
    total = (d.gate_out - d.arrival).dt.total_seconds()
    # By the seed, the trader holds arrival .. lodgement, which no other segment overlaps.
    trader = (d.lodgement.clip(upper=d.gate_out) - d.arrival).dt.total_seconds().clip(lower=0).fillna(0)
    rows = {
        party: (n, hours, total_hours, share)
        for party, n, hours, total_hours, share in con.execute(
            "SELECT party, declarations, hours, total_hours, share FROM trs_actor_time "
            "WHERE period_type = 'year' AND period_start = '2011-01-01' AND grouping_set = 'period'"
        ).fetchall()
    }
    assert set(rows) == {"customs", "trader", "oga", "terminal", "unattributed"}
    n, hours, total_hours, share = rows["trader"]
    assert n == len(d)
    assert total_hours == pytest.approx(total.mean() / 3600, abs=1e-4)
    assert hours == pytest.approx(trader.mean() / 3600, abs=1e-4)
    assert share == pytest.approx(trader.sum() / total.sum(), abs=1e-6)
    assert sum(r[3] for r in rows.values()) == pytest.approx(1, abs=1e-5)
    assert sum(r[1] for r in rows.values()) == pytest.approx(total_hours, abs=1e-3)


def _released_median_hours(group) -> float:
    """The released-only median as the marts compute it: of whole seconds, in hours."""
    return float(np.quantile(np.round(group.hours.dropna().to_numpy() * 3600), 0.5)) / 3600


@pytest.mark.parametrize("side, aeo_flag", [("cohort", "Y"), ("baseline", "N")])
def test_cohort_medians_match_an_independent_computation(world, side, aeo_flag):
    """The medians the two-pass hourly steps find (macros/trs_km.sql) are those of every second."""
    con, declarations = world
    group = declarations[
        (declarations.reference_date.dt.year == 2011)
        & (declarations.declaration_type == "import")
        & (declarations.aeo_flag == aeo_flag)
    ]
    row = _one(
        con,
        f"SELECT {side}_declarations AS n, {side}_median_hours AS median, {side}_km_median_hours AS km_median "
        "FROM trs_cohort_comparison WHERE period_type = 'year' AND period_start = '2011-01-01' "
        "AND declaration_type = 'import' AND transport_mode = 'ALL' AND comparison = 'aeo'",
    )
    assert row["n"] == len(group)
    assert row["median"] == pytest.approx(_released_median_hours(group), abs=1e-4)
    assert row["km_median"] == pytest.approx(kaplan_meier(group, LIMIT_HOURS)["km_median_hours"], abs=1e-4)


def test_the_yearly_median_matches_an_independent_computation(world):
    con, declarations = world
    years = [y for (y,) in con.execute("SELECT DISTINCT year FROM trs_median_change_yearly ORDER BY year").fetchall()]
    assert years
    for year in years:
        group = declarations[declarations.reference_date.dt.year == year]
        row = _one(
            con,
            "SELECT released, median_hours FROM trs_median_change_yearly "
            f"WHERE year = {year} AND grouping_set = 'period'",
        )
        assert row["released"] == group.hours.notna().sum(), year
        assert row["median_hours"] == pytest.approx(_released_median_hours(group), abs=1e-4), year


TRS_DIMENSIONS = ["declaration_type", "transport_mode", "channel", "customs_office"]


def _grouped_per_period(published_world, rows_sql, head, aggregates):
    """`aggregates` over `rows_sql` (rows with a reference_date) in their month and in their year,
    per TRS grouping set with the `head` columns, rolled-up dimensions as 'ALL': the rows a TRS
    mart should hold, from the session's warehouse."""
    dims = TRS_DIMENSIONS
    sets = [[], dims[:1], dims[:2], dims[:3], [dims[0], dims[1], dims[3]]]
    grouping = ", ".join("(" + ", ".join([*head, *kept]) + ")" for kept in sets)
    labels = ", ".join(f"CASE WHEN grouping({d}) = 1 THEN 'ALL' ELSE {d} END AS {d}" for d in dims)
    warehouse = duckdb.connect(str(published_world.home.warehouse), read_only=True)
    try:
        return warehouse.execute(
            f"""
            WITH periods AS (
                SELECT p.period_type, CAST(date_trunc(p.period_type, r.reference_date) AS DATE) AS period_start, r.*
                FROM ({rows_sql}) AS r
                CROSS JOIN (VALUES ('month'), ('year')) AS p(period_type)
            )
            SELECT {", ".join(head)}, {labels}, {aggregates}
            FROM periods
            GROUP BY GROUPING SETS ({grouping})
            """
        ).fetchall()
    finally:
        warehouse.close()


def test_released_percentiles_equal_quantile_cont_in_every_row(world, published_world):
    """trs_release_time reads its released-only percentiles and the still-waiting median age from
    its Kaplan-Meier rows (counts per hour, seconds only in the hours an order statistic lies in).
    Every row, each period and grouping set, holds the values DuckDB's quantile_cont gives over the
    declarations themselves, to the last digit."""
    dims = TRS_DIMENSIONS
    hours = "round(quantile_cont({}, {}) / 3600.0, 4)"
    columns = ["median_hours", "p90_hours", "p95_hours", "still_waiting_median_age_hours"]
    keys = ["period_type", "period_start", *dims]
    expected = _grouped_per_period(
        published_world,
        "SELECT * FROM intermediate.int_trs_release_outcomes",
        ["period_type", "period_start"],
        f"""{hours.format("release_seconds", 0.5)}, {hours.format("release_seconds", 0.9)},
            {hours.format("release_seconds", 0.95)}, {hours.format("waiting_age_seconds", 0.5)}""",
    )
    published = world[0].execute(f"SELECT {', '.join(keys + columns)} FROM trs_release_time").fetchall()
    assert len(published) == len(expected) > 100
    assert sum(row[-2] is not None for row in published) > 100
    assert sum(row[-1] is not None for row in published) > 0
    differing = set(published) ^ set(expected)
    assert not differing, sorted(differing, key=str)[:6]


def test_segment_percentiles_equal_quantile_cont_in_every_row(world, published_world):
    """Every row of trs_segment_time, each segment, period and grouping set, holds the
    declarations, mean, median, 90th percentile and negative count that a query of its own gives
    over the milestones (mean from the integer sum, quantile_cont), to the last digit: the guard
    for any change to how the segment models compute them."""
    segments = {
        "arrival_to_lodgement": "arrival_to_lodgement_hours",
        "lodgement_to_acceptance": "lodgement_to_acceptance_hours",
        "acceptance_to_release": "acceptance_to_release_hours",
        "release_to_gate_out": "release_to_gate_out_hours",
        "inspection": "inspection_hours",
        "arrival_to_release": "release_hours",
    }
    dims = TRS_DIMENSIONS
    head = ["segment", "period_type", "period_start"]
    seconds = " UNION ALL ".join(
        f"SELECT '{name}' AS segment, {', '.join(dims)}, reference_date, CAST(round({column} * 3600) AS INTEGER) AS s "
        f"FROM intermediate.int_declaration_milestones WHERE reference_date IS NOT NULL AND {column} IS NOT NULL"
        for name, column in segments.items()
    )
    columns = ["declarations", "mean_hours", "median_hours", "p90_hours", "negative_count"]
    expected = _grouped_per_period(
        published_world,
        seconds,
        head,
        """count(*), round(sum(s) / count(s) / 3600.0, 4),
            round(quantile_cont(s, 0.5) / 3600.0, 4), round(quantile_cont(s, 0.9) / 3600.0, 4),
            count(*) FILTER (WHERE s < 0)""",
    )
    keys = [*head, *dims]
    published = world[0].execute(f"SELECT {', '.join(keys + columns)} FROM trs_segment_time").fetchall()
    assert len(published) == len(expected) > 100
    assert sum(row[-1] > 0 for row in published) > 0
    differing = set(published) ^ set(expected)
    assert not differing, sorted(differing, key=str)[:6]
