{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['period_type', 'period_start'],
        on_schema_change='fail'
    )
}}
-- Time Release Study cohorts (docs/trs.md, "Cohorts"): per period, declaration type and mode
-- (and all modes), declarations with every facilitation feature against those with none, and
-- each feature on its own (with it against without it, whatever the others), in the manner of
-- India's NTRS. The features: AEO declarant, pre-arrival lodgement, green channel, no OGA permit
-- needed. A declaration with a feature unknown (no declaration header, no channel logged)
-- counts in no comparison that needs it. Medians from the declarations themselves; a side with
-- no declarations has NULL statistics, never zero. Incremental like trs_release_time.
-- noqa: disable=PRS
-- The incremental filter reads the milestones (trs_changed_months):
-- depends_on: {{ ref('int_declaration_milestones') }}
{%- set features = {
    'aeo': 'is_aeo',
    'pre_arrival': 'is_pre_arrival',
    'green_channel': "case when channel = 'unknown' then null else channel = 'green' end",
    'no_oga_permit': 'not is_oga_required',
} %}
{%- set group_keys = ['period_type', 'period_start', 'declaration_type', 'transport_mode'] %}
{%- set side_keys = group_keys + ['comparison', 'side'] %}

with declarations as (
    select
        {%- for name, expression in features.items() %}
        {{ expression }} as has_{{ name }},
        {%- endfor %}
        *
    from {{ ref('int_trs_release_outcomes') }}
),

in_periods as (
    {{ trs_period_rows('declarations', censoring=true) }}
),

-- Declarations per period, type, mode, feature combination and time: the comparisons below
-- regroup these few rows instead of the declarations.
cells as (
    select
        period_type,
        period_start,
        declaration_type,
        transport_mode,
        {%- for name in features %}
        has_{{ name }},
        {%- endfor %}
        km_seconds,
        count(*) as declarations,
        sum(case when is_km_event then 1 else 0 end) as events,
        sum(case when km_seconds is not null and not is_km_event then 1 else 0 end) as censored,
        max(_refreshed_at) as source_refreshed_at
    from in_periods
    group by
        period_type,
        period_start,
        declaration_type,
        transport_mode,
        {%- for name in features %}
        has_{{ name }},
        {%- endfor %}
        km_seconds
),

sides as (
    select
        *,
        'all_features' as comparison,
        case
            when {{ 'has_' ~ (features | join(' and has_')) }} then 'cohort'
            when {{ 'not has_' ~ (features | join(' and not has_')) }} then 'baseline'
        end as side
    from cells
    {%- for name in features %}
    union all
    select
        *,
        '{{ name }}' as comparison,
        case when has_{{ name }} then 'cohort' when not has_{{ name }} then 'baseline' end as side
    from cells
    {%- endfor %}
),

side_times as (
    select
        period_type,
        period_start,
        {{ rollup_dim('declaration_type') }} as declaration_type,
        {{ rollup_dim('transport_mode') }} as transport_mode,
        comparison,
        side,
        km_seconds,
        sum(declarations) as declarations,
        sum(events) as events,
        sum(censored) as censored,
        max(source_refreshed_at) as source_refreshed_at
    from sides
    where side is not null
    group by grouping sets (
        (period_type, period_start, declaration_type, comparison, side, km_seconds),
        (period_type, period_start, declaration_type, transport_mode, comparison, side, km_seconds)
    )
),

side_totals as (
    select
        {{ side_keys | join(', ') }},
        sum(declarations) as declarations,
        sum(events) as released,
        sum(censored) as still_waiting
    from side_times
    group by {{ side_keys | join(', ') }}
),

km_steps as (
    select
        *,
        sum(events) over (
            partition by {{ side_keys | join(', ') }}
            order by km_seconds rows between unbounded preceding and current row
        ) as released_through,
        sum(events) over (partition by {{ side_keys | join(', ') }}) as released_total
    from ({{ trs_km_steps('(select * from side_times where km_seconds is not null)', side_keys) }}) as steps
),

side_medians as (
    select
        {{ side_keys | join(', ') }},
        {{ trs_histogram_median_seconds('released_through', 'released_total') }} as median_seconds,
        {{ trs_km_quantile_seconds(0.5) }} as km_median_seconds
    from km_steps
    group by {{ side_keys | join(', ') }}
),

side_stats as (
    select
        t.*,
        {{ round_double(as_double('m.median_seconds') ~ ' / 3600.0', 4) }} as median_hours,
        {{ round_double(as_double('m.km_median_seconds') ~ ' / 3600.0', 4) }} as km_median_hours
    from side_totals as t
    left join side_medians as m using ({{ side_keys | join(', ') }})
),

-- Every group (type, and type and mode, per period) and every comparison, so that a side with
-- no declarations is a row with NULL statistics rather than no row.
groups as (
    select
        period_type,
        period_start,
        {{ rollup_dim('declaration_type') }} as declaration_type,
        {{ rollup_dim('transport_mode') }} as transport_mode,
        case when grouping(transport_mode) = 1 then 'period+type' else 'period+type+mode' end as grouping_set,
        max(source_refreshed_at) as source_refreshed_at
    from cells
    group by grouping sets (
        (period_type, period_start, declaration_type),
        (period_type, period_start, declaration_type, transport_mode)
    )
),

comparisons as (
    select 'all_features' as comparison
    {%- for name in features %}
    union all
    select '{{ name }}'
    {%- endfor %}
),

compared as (
    select
        g.*,
        c.comparison,
        co.declarations as cohort_declarations,
        co.released as cohort_released,
        co.still_waiting as cohort_still_waiting,
        co.median_hours as cohort_median_hours,
        co.km_median_hours as cohort_km_median_hours,
        ba.declarations as baseline_declarations,
        ba.released as baseline_released,
        ba.still_waiting as baseline_still_waiting,
        ba.median_hours as baseline_median_hours,
        ba.km_median_hours as baseline_km_median_hours
    from groups as g
    cross join comparisons as c
    left join side_stats as co
        on g.period_type = co.period_type and g.period_start = co.period_start
            and g.declaration_type = co.declaration_type and g.transport_mode = co.transport_mode
            and c.comparison = co.comparison and co.side = 'cohort'
    left join side_stats as ba
        on g.period_type = ba.period_type and g.period_start = ba.period_start
            and g.declaration_type = ba.declaration_type and g.transport_mode = ba.transport_mode
            and c.comparison = ba.comparison and ba.side = 'baseline'
)

select
    period_type,
    period_start,
    declaration_type,
    transport_mode,
    grouping_set,
    comparison,
    cast(coalesce(cohort_declarations, 0) as bigint) as cohort_declarations,
    cast(coalesce(cohort_released, 0) as bigint) as cohort_released,
    cast(coalesce(cohort_still_waiting, 0) as bigint) as cohort_still_waiting,
    cohort_median_hours,
    cohort_km_median_hours,
    cast(coalesce(baseline_declarations, 0) as bigint) as baseline_declarations,
    cast(coalesce(baseline_released, 0) as bigint) as baseline_released,
    cast(coalesce(baseline_still_waiting, 0) as bigint) as baseline_still_waiting,
    baseline_median_hours,
    baseline_km_median_hours,
    -- Relative to the baseline: -0.4 = 40 % faster. Not defined on a zero or negative baseline.
    case
        when baseline_median_hours > 0 then round(cohort_median_hours / baseline_median_hours - 1, 6)
    end as median_relative_difference,
    case
        when baseline_km_median_hours > 0 then round(cohort_km_median_hours / baseline_km_median_hours - 1, 6)
    end as km_median_relative_difference,
    source_refreshed_at
from compared
