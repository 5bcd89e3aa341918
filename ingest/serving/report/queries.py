"""One SQL query per chart (the satisfaction chart: one per mart it reads), against the marts'
enforced dbt contracts (dbt_project/models/marts/<mart>.yml): a query names the mart's real
columns, and ``columns`` lists every contract column it reads, so a snapshot whose mart lacks one
gets a "no data yet" panel naming it before the query runs (tests/test_report.py checks that the
list is complete and that every name in it is in the contract).

The queries do the filtering, the unit conversion (hours to days, KRW to billions, 0-1 to
percent) and the order of the rows; the chart code only lays the rows out.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Query:
    mart: str
    columns: tuple[str, ...]  # the contract columns the SQL reads
    sql: str
    selects: str  # the rows it selects, for the "no data yet" panel: "the mart M has no <selects> yet"
    optional: bool = False  # the chart is drawn without it (and says so)


# The names of the marts' codes in English and Korean (texts.py); without it codes show as they are.
LABELS = Query(
    "display_labels",
    ("kind", "code", "name_en", "name_ko"),
    "SELECT kind, code, name_en, name_ko FROM display_labels ORDER BY kind, code",
    "rows",
    optional=True,
)

AIR_IMPORT_RELEASE = Query(
    "trs_air_import_yearly",
    ("year", "declarations", "released", "mean_days", "median_days", "p90_days", "still_waiting", "km_median_days"),
    """
    SELECT year, declarations, released, still_waiting, mean_days, median_days, km_median_days, p90_days
    FROM trs_air_import_yearly
    ORDER BY year
    """,
    "yearly rows",
)

RELEASE_BY_MODE = Query(
    "trs_release_time",
    ("period_type", "period_start", "grouping_set", "declaration_type", "transport_mode", "median_hours"),
    """
    SELECT year(period_start) AS year, transport_mode, median_hours / 24 AS median_days
    FROM trs_release_time
    WHERE period_type = 'year' AND grouping_set = 'period+type+mode'
      AND declaration_type = 'import' AND transport_mode IN ('air', 'sea', 'land')
    ORDER BY year, transport_mode
    """,
    "yearly import rows by mode of transport",
)

RELEASE_BY_CHANNEL = Query(
    "trs_release_time",
    ("period_type", "period_start", "grouping_set", "declaration_type", "transport_mode", "channel", "median_hours"),
    """
    SELECT year(period_start) AS year, channel, median_hours / 24 AS median_days
    FROM trs_release_time
    WHERE period_type = 'year' AND grouping_set = 'period+type+mode+channel'
      AND declaration_type = 'import' AND transport_mode = 'air' AND channel IN ('green', 'yellow', 'red')
    ORDER BY year, channel
    """,
    "yearly air-cargo import rows by C/S channel",
)

# The first and the latest year of the import curves, per mode.
RELEASE_CURVE = Query(
    "trs_release_curve",
    (
        "period_type",
        "period_start",
        "grouping_set",
        "declaration_type",
        "transport_mode",
        "hours",
        "declarations",
        "released_by",
        "at_risk",
        "released_share",
    ),
    """
    WITH curves AS (
        SELECT year(period_start) AS year, transport_mode, hours, declarations, released_by, at_risk, released_share
        FROM trs_release_curve
        WHERE period_type = 'year' AND grouping_set = 'period+type+mode'
          AND declaration_type = 'import' AND transport_mode IN ('air', 'sea', 'land')
    )
    SELECT * FROM curves
    WHERE year IN ((SELECT min(year) FROM curves), (SELECT max(year) FROM curves))
    ORDER BY transport_mode, year, hours
    """,
    "yearly import curves by mode of transport",
)

WITHIN_TARGET = Query(
    "trs_release_time",
    (
        "period_type",
        "period_start",
        "grouping_set",
        "declaration_type",
        "transport_mode",
        "released",
        "target_hours",
        "within_target_share",
    ),
    """
    SELECT year(period_start) AS year, transport_mode, released, target_hours, within_target_share
    FROM trs_release_time
    WHERE period_type = 'year' AND grouping_set = 'period+type+mode'
      AND declaration_type = 'import' AND transport_mode IN ('air', 'sea', 'land')
      AND within_target_share IS NOT NULL
    ORDER BY year, transport_mode
    """,
    "yearly import rows with a national target",
)

ACTOR_TIME = Query(
    "trs_actor_time",
    (
        "period_type",
        "period_start",
        "grouping_set",
        "declaration_type",
        "party",
        "declarations",
        "hours",
        "total_hours",
        "share",
    ),
    """
    SELECT year(period_start) AS year, party, declarations, hours, total_hours, share
    FROM trs_actor_time
    WHERE period_type = 'year' AND grouping_set = 'period+type' AND declaration_type = 'import'
    ORDER BY year, party
    """,
    "yearly import rows",
)

# The latest year, imports of every mode.
COHORTS = Query(
    "trs_cohort_comparison",
    (
        "period_type",
        "period_start",
        "grouping_set",
        "declaration_type",
        "comparison",
        "cohort_declarations",
        "cohort_median_hours",
        "cohort_km_median_hours",
        "baseline_declarations",
        "baseline_median_hours",
        "baseline_km_median_hours",
        "km_median_relative_difference",
    ),
    """
    SELECT year(period_start) AS year, comparison, cohort_declarations, cohort_median_hours, cohort_km_median_hours,
           baseline_declarations, baseline_median_hours, baseline_km_median_hours, km_median_relative_difference
    FROM trs_cohort_comparison
    WHERE period_type = 'year' AND grouping_set = 'period+type' AND declaration_type = 'import'
      AND period_start = (SELECT max(period_start) FROM trs_cohort_comparison WHERE period_type = 'year')
    ORDER BY comparison
    """,
    "yearly import rows",
)

COST_BENEFIT = Query(
    "cost_benefit_yearly",
    (
        "year",
        "investment_krw",
        "cumulative_investment_krw",
        "booked_savings_krw",
        "cumulative_savings_krw",
        "net_cumulative_position_krw",
        "roi_to_date",
        "is_break_even_year",
    ),
    """
    SELECT year,
           investment_krw / 1e9 AS investment_bn,
           cumulative_investment_krw / 1e9 AS cumulative_investment_bn,
           booked_savings_krw / 1e9 AS savings_bn,
           cumulative_savings_krw / 1e9 AS cumulative_savings_bn,
           net_cumulative_position_krw / 1e9 AS net_position_bn,
           roi_to_date,
           is_break_even_year
    FROM cost_benefit_yearly
    ORDER BY year
    """,
    "ledger years",
)

SATISFACTION = Query(
    "satisfaction_yearly",
    ("year", "segment", "item", "mean_score_100"),
    """
    SELECT year, mean_score_100
    FROM satisfaction_yearly
    WHERE segment = 'ALL' AND item = 'ALL'
    ORDER BY year
    """,
    "segment 'ALL', item 'ALL' rows",
)

USAGE_RATE = Query(
    "usage_rate_yearly",
    ("year", "usage_rate_pct"),
    """
    SELECT year, usage_rate_pct
    FROM usage_rate_yearly
    ORDER BY year
    """,
    "yearly rows",
    optional=True,
)

SLA_ATTAINMENT = Query(
    "sla_indicator_monthly",
    ("indicator_code", "period_type", "period_start", "measured_value", "attainment"),
    """
    SELECT indicator_code, strftime(period_start, '%Y-%m') AS month, measured_value, attainment
    FROM sla_indicator_monthly
    WHERE period_type = 'month'
    ORDER BY indicator_code, month
    """,
    "monthly rows",
)

# The 'ALL' rows of every rollup dimension: all offices, modes and import types.
CS_INSPECTION = Query(
    "cs_inspection_performance",
    (
        "source",
        "period_type",
        "period_start",
        "customs_office",
        "transport_mode",
        "import_type",
        "inspections",
        "detections",
        "inspection_rate",
        "hit_rate",
    ),
    """
    SELECT strftime(period_start, '%Y-%m') AS month, source, inspections, detections,
           inspection_rate, hit_rate, inspection_rate * 100 AS inspection_pct, hit_rate * 100 AS hit_pct
    FROM cs_inspection_performance
    WHERE period_type = 'month' AND customs_office = 'ALL' AND transport_mode = 'ALL' AND import_type = 'ALL'
    ORDER BY source, month
    """,
    "monthly rows for all offices, modes and import types",
)

# The open alerts (every row of kpi_alerts is a breach open at publishing), most severe and most
# recent first: the block at the top of the report, not a chart.
OPEN_ALERTS = Query(
    "kpi_alerts",
    ("alert_key", "severity", "alert_rule", "period_start", "message", "first_seen_at"),
    """
    SELECT severity, alert_rule, message, strftime(first_seen_at, '%Y-%m-%d %H:%M') AS first_seen
    FROM kpi_alerts
    ORDER BY CASE severity WHEN 'critical' THEN 0 ELSE 1 END, period_start DESC, alert_key
    """,
    "alerts",
)
