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
-- The incremental filter reads the milestones and the month counts (trs_changed_months):
-- depends_on: {{ ref('int_declaration_milestones') }}, {{ ref('int_trs_month_counts') }}
{%- set features = {
    'aeo': 'is_aeo',
    'pre_arrival': 'is_pre_arrival',
    'green_channel': "case when channel = 'unknown' then null else channel = 'green' end",
    'no_oga_permit': 'not is_oga_required',
} %}
{%- set recomputed_months = trs_recomputed_months(censoring=true) %}
{%- set group_keys = ['period_type', 'period_start', 'declaration_type', 'transport_mode'] %}
{%- set side_keys = group_keys + ['comparison', 'side'] %}
{%- set feature_columns = [] %}
{%- for name in features %}{% do feature_columns.append('has_' ~ name) %}{% endfor %}
{%- set cell_columns = ['period_type', 'period_start', 'declaration_type', 'transport_mode'] + feature_columns %}
{%- set cell_aggregates -%}
        count(*) as declarations,
        {{ trs_km_counts('r') }},
        max(r._refreshed_at) as source_refreshed_at
{%- endset %}
{%- set released_windows -%}
        sum(events) over (
            partition by {{ side_keys | join(', ') }}
            order by km_seconds rows between unbounded preceding and current row
        ) as released_through,
        sum(events) over (partition by {{ side_keys | join(', ') }}) as released_total
{%- endset %}

with declarations as {{ inlined_cte(on_incremental=true) }} (
    select
        {%- for name, expression in features.items() %}
        {{ expression }} as has_{{ name }},
        {%- endfor %}
        reference_date,
        declaration_type,
        transport_mode,
        km_seconds,
        is_km_event,
        _refreshed_at
    from {{ ref('int_trs_release_outcomes') }}
),

in_periods as (
    {{ trs_rows_in_months('declarations', recomputed_months) }}
),

-- Declarations per period, type, mode, feature combination and hour (per second in the hours of
-- a period holding a censored declaration), regrouped from int_trs_period_cells: the comparisons
-- below regroup these few rows instead of the declarations.
cell_hours as (
    {%- if trs_cells_from_model() %}
    select
        period_type,
        period_start,
        declaration_type,
        transport_mode,
        {%- for name, expression in features.items() %}
        {{ expression }} as has_{{ name }},
        {%- endfor %}
        km_seconds,
        cast(sum(declarations) as bigint) as declarations,
        sum(events) as events,
        sum(censored) as censored,
        max(source_refreshed_at) as source_refreshed_at
    from ({{ trs_cells_in_months(ref('int_trs_period_cells'), recomputed_months) }}) as cells
    group by
        period_type,
        period_start,
        declaration_type,
        transport_mode,
        {%- for expression in features.values() %}
        {{ expression }},
        {%- endfor %}
        km_seconds
    {%- else %}
    {{ trs_km_row_hours('in_periods', cell_columns, cell_aggregates, timed_only=false) }}
    {%- endif %}
),

-- The comparisons, each a cohort against a baseline.
comparisons as (
    select 'all_features' as comparison
    {%- for name in features %}
    union all
    select '{{ name }}'
    {%- endfor %}
),

-- The Kaplan-Meier and released-only medians per side are read in two passes (macros/trs_km.sql,
-- trs_km_row_hours): the steps per hour find the hour holding each median, then only those hours
-- are stepped through per second, counted again from the declarations.
{#- The sides of each comparison, and their rows per type (and mode) and time: once over the
    hours, once over the seconds of the median hours. #}
{%- for name, cells_relation in [('hours', 'cell_hours'), ('seconds', 'cells_in_median_hours')] %}
{%- if name == 'seconds' %}

-- The declarations in the hours where some side of their type's median lies, per second (every
-- side is of one declaration type).
cells_in_median_hours as (
    {{ trs_km_row_seconds_in_hours(
        'in_periods', cell_columns, 'median_hours', cell_aggregates, keys=['declaration_type']
    ) }}
),
{%- endif %}

{#- Each side's seconds are read at each of their two uses (not materialized on DuckDB): written
    once, they were every second cell once per comparison, of which each use keeps one in thirty
    (its sides' own median hours). #}
sides_{{ name }} as {{ inlined_cte(on_incremental=true) if name == 'seconds' }} (
    select
        c.period_type,
        c.period_start,
        c.declaration_type,
        c.transport_mode,
        c.km_seconds,
        c.declarations,
        c.events,
        c.censored,
        c.source_refreshed_at,
        k.comparison,
        case
            when k.comparison = 'all_features' and {{ 'c.has_' ~ (features | join(' and c.has_')) }} then 'cohort'
            when k.comparison = 'all_features' and {{ 'not c.has_' ~ (features | join(' and not c.has_')) }}
                then 'baseline'
            {%- for feature in features %}
            when k.comparison = '{{ feature }}' and c.has_{{ feature }} then 'cohort'
            when k.comparison = '{{ feature }}' and not c.has_{{ feature }} then 'baseline'
            {%- endfor %}
        end as side
    from {{ cells_relation }} as c
    cross join comparisons as k
),

{%- if name == 'hours' %}

side_hours as (
    select
        period_type,
        period_start,
        {{ rollup_dim('declaration_type') }} as declaration_type,
        {{ rollup_dim('transport_mode') }} as transport_mode,
        comparison,
        side,
        km_seconds,
        cast(sum(declarations) as bigint) as declarations,
        sum(events) as events,
        sum(censored) as censored,
        max(source_refreshed_at) as source_refreshed_at
    from sides_hours
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
    from side_hours
    group by {{ side_keys | join(', ') }}
),

side_hour_times as (
    select * from side_hours where km_seconds is not null
),

hour_steps as (
    select
        *,
        {{ released_windows }}
    from ({{ trs_km_steps('side_hour_times', side_keys) }}) as steps
),

median_hours as (
    {{ trs_hours_reaching('hour_steps', side_keys, [
        trs_km_reached(0.5),
        trs_histogram_share('released_through', 'released_total') ~ ' >= 0.5',
        trs_histogram_share('released_through', 'released_total') ~ ' > 0.5'
    ]) }}
),
{%- else %}

-- Per second, each side only in its own median hours (macros/trs_km.sql).
side_seconds as (
    {{ trs_km_seconds_in_own_hours(
        'sides_seconds', 'median_hours',
        ['period_type', 'period_start', 'declaration_type', 'comparison', 'side'], ['transport_mode'],
        [('period+type', []), ('period+type+mode', ['transport_mode'])],
        ['declarations', 'events', 'censored'], ['source_refreshed_at']
    ) }}
),
{%- endif %}
{%- endfor %}

side_steps_input as (
    {{ trs_km_hours_opened('side_hour_times', 'side_seconds', side_keys, 'median_hours') }}
),

km_steps as (
    select
        *,
        {{ released_windows }}
    from ({{ trs_km_steps('side_steps_input', side_keys) }}) as steps
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
    from cell_hours
    group by grouping sets (
        (period_type, period_start, declaration_type),
        (period_type, period_start, declaration_type, transport_mode)
    )
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
