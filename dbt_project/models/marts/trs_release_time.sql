{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['period_type', 'period_start'],
        on_schema_change='fail'
    )
}}
-- Time Release Study: total release time (release minus arrival) per period and group.
-- Every statistic of every row, rollups included, is computed from declarations, never from
-- finer rows (percentiles are not additive). A nightly build recomputes only the months and
-- years that received changed declarations; their old rows are replaced whole.
-- Statistics are computed on whole seconds (macros/trs.sql): exact, and the same on every run.
-- GROUP BY GROUPING SETS below: DuckDB runs it, the linter's duckdb dialect cannot parse it.
-- noqa: disable=PRS

with declarations as (
    select *, {{ whole_seconds('release_hours') }} as release_seconds
    from {{ ref('int_declaration_milestones') }}
    where reference_date is not null
),

in_periods as (
    {{ trs_period_rows('declarations') }}
),

grouped as (
    select
        {{ trs_group_columns() }},
        count(*) as declarations,
        {{ trs_seconds_aggregates('release_seconds', [0.5, 0.9, 0.95]) }},
        min(release_seconds) as min_seconds,
        max(release_seconds) as max_seconds,
        count(*) filter (where release_seconds <= 24 * 3600) as within_24h,
        count(*) filter (where release_seconds <= 48 * 3600) as within_48h,
        count(*) filter (where is_outlier) as outliers,
        max(_refreshed_at) as source_refreshed_at
    from in_periods
    group by {{ trs_grouping_sets() }}
)

select
    period_type,
    period_start,
    declaration_type,
    transport_mode,
    channel,
    customs_office,
    grouping_set,
    declarations,
    n_seconds as released,
    {{ trs_mean_hours() }} as mean_hours,
    {{ trs_quantile_hours(1) }} as median_hours,
    {{ trs_quantile_hours(2) }} as p90_hours,
    {{ trs_quantile_hours(3) }} as p95_hours,
    {{ trs_stddev_hours() }} as stddev_hours,
    round(min_seconds / 3600.0, 4) as min_hours,
    round(max_seconds / 3600.0, 4) as max_hours,
    round(within_24h / nullif(n_seconds, 0), 6) as within_24h_share,
    round(within_48h / nullif(n_seconds, 0), 6) as within_48h_share,
    outliers,
    source_refreshed_at
from grouped
