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

with declarations as (
    select * from {{ ref('int_declaration_milestones') }}
    where reference_date is not null
),

in_periods as (
    {{ trs_period_rows('declarations') }}
)

select
    period_type,
    period_start,
    {{ rollup_dim('declaration_type') }} as declaration_type,
    {{ rollup_dim('transport_mode') }} as transport_mode,
    {{ rollup_dim('channel') }} as channel,
    {{ rollup_dim('customs_office') }} as customs_office,
    {{ trs_grouping_set_name() }} as grouping_set,
    count(*) as declarations,
    count(release_hours) as released,
    -- Sums in a fixed order: floating-point addition is not associative, and a mean that
    -- depended on row order could round differently on a re-run.
    round(avg(release_hours order by release_hours), 4) as mean_hours,
    round(quantile_cont(release_hours, 0.5), 4) as median_hours,
    round(quantile_cont(release_hours, 0.9), 4) as p90_hours,
    round(quantile_cont(release_hours, 0.95), 4) as p95_hours,
    round(stddev_samp(release_hours order by release_hours), 4) as stddev_hours,
    round(min(release_hours), 4) as min_hours,
    round(max(release_hours), 4) as max_hours,
    round(count(*) filter (where release_hours <= 24) / nullif(count(release_hours), 0), 6) as within_24h_share,
    round(count(*) filter (where release_hours <= 48) / nullif(count(release_hours), 0), 6) as within_48h_share,
    count(*) filter (where is_outlier) as outliers,
    max(_refreshed_at) as source_refreshed_at
from in_periods
group by {{ trs_grouping_sets() }}
