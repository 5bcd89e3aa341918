{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['period_type', 'period_start'],
        on_schema_change='fail'
    )
}}
-- Time Release Study release curve: per period and group (the grouping sets of
-- trs_release_time) and per hour mark (var trs_curve_hours), the Kaplan-Meier share released by
-- then, counting cargo still waiting as censored (macros/trs_km.sql). Incremental like
-- trs_release_time (the moving data horizon re-ages cargo still waiting).
-- noqa: disable=PRS
-- The incremental filter reads the milestones and the month counts (trs_changed_months):
-- depends_on: {{ ref('int_declaration_milestones') }}, {{ ref('int_trs_month_counts') }}
{%- set group_keys = ['period_type', 'period_start', 'declaration_type', 'transport_mode', 'channel',
                      'customs_office'] %}
{%- set marks = var('trs_curve_hours') %}

-- The declarations counted per period, cell and time (int_trs_period_cells: per hour, per second in
-- the hours holding a censored declaration; a row of NULL time for those without one) for the
-- periods this build recomputes, then per group (the grouping sets; macros/trs_km.sql): every
-- mark is an hour's end, and the survival after an hour is the survival at its last second.
with km_cells as (
    {{ trs_cells_in_months(ref('int_trs_period_cells'), trs_recomputed_months(censoring=true)) }}
),

groups as (
    select
        {{ trs_group_columns() }},
        cast(sum(declarations) as bigint) as declarations,
        cast(sum(events + censored) as bigint) as km_base,
        max(source_refreshed_at) as source_refreshed_at
    from km_cells
    group by {{ trs_grouping_sets() }}
),

km_timed_cells as (
    select * from km_cells where km_seconds is not null
),

km_hours as (
    {{ trs_km_group_hours('km_timed_cells') }}
),

km_steps as (
    {{ trs_km_steps('km_hours', group_keys) }}
),

-- Each step in the first mark at or after it; steps after the last mark are not drawn.
by_mark as (
    select
        {{ group_keys | join(', ') }},
        case
            {%- for hours in marks %}
            when km_seconds <= {{ hours }} * 3600 then {{ hours }}
            {%- endfor %}
        end as hours,
        sum(events) as released_in,
        sum(events + censored) as left_in,
        min(survival) as survival_in
    from km_steps
    group by {{ group_keys | join(', ') }}, 7
),

marks as (
    {%- for hours in marks %}
    select {{ hours }} as hours
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

grid as (
    select
        g.*,
        m.hours
    from groups as g
    cross join marks as m
),

cumulative as (
    select
        grid.*,
        sum(coalesce(b.released_in, 0)) over by_hours as released_by,
        sum(coalesce(b.left_in, 0)) over by_hours as left_by,
        min(b.survival_in) over by_hours as survival
    from grid
    left join by_mark as b using ({{ group_keys | join(', ') }}, hours)
    window by_hours as (
        partition by {{ group_keys | join(', ') }} order by grid.hours rows between unbounded preceding and current row
    )
)

select
    period_type,
    period_start,
    declaration_type,
    transport_mode,
    channel,
    customs_office,
    grouping_set,
    cast(hours as integer) as hours,
    declarations,
    cast(released_by as bigint) as released_by,
    cast(km_base - left_by as bigint) as at_risk,
    case when km_base > 0 then round(1 - coalesce(survival, 1), 6) end as released_share,
    source_refreshed_at
from cumulative
