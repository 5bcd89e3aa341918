{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='append',
        pre_hook="{{ trs_delete_recomputed_periods(censoring=true, reference=trs_targets_version()) }}",
        on_schema_change='fail'
    )
}}
-- The declarations of each TRS period (month and year, by reference date) counted per cell and
-- release time, once for the three censoring-aware TRS marts, which regroup these rows instead
-- of reading the declarations again (trs_release_time, trs_release_curve, trs_cohort_comparison):
-- a year's declarations read once a night instead of six times.
-- A cell is a finest TRS group (type, mode, channel, office) with the cohort features (AEO,
-- pre-arrival lodgement, OGA permit). Its time is the Kaplan-Meier hour, or the second in the
-- hours of a period holding a censored declaration, with one row of NULL time for the
-- declarations without one (macros/trs_km.sql, trs_km_row_hours). The sums are exact integers,
-- so any regrouping adds up to what the declarations give.
-- A year's rows are its months' added up (trs_year_cells_from_months), so a night counts only the
-- declarations of the months it recomputes and reads the year's other months from this table;
-- only in the hours of a year holding a censored declaration are the year's declarations counted
-- again, per second.
-- Incremental like trs_release_time: the months that received changed declarations, or whose
-- cargo still waiting the moving data horizon re-ages, with their years, and every period when
-- trs_targets changed (reference_version); and the months a correction moved a declaration out
-- of (int_trs_month_counts). Their old rows are deleted first (the pre-hook), then the new ones
-- appended.
-- The incremental filter reads the milestones and the month counts (trs_changed_months):
-- depends_on: {{ ref('int_declaration_milestones') }}, {{ ref('int_trs_month_counts') }}
{%- set targets_version = trs_targets_version() %}
{%- set months = trs_recomputed_months(censoring=true, reference=targets_version) %}
{%- set cell_columns = trs_period_cell_columns() %}

-- Inlined: read by the months and by the censored hours, each with its own filter.
with declarations as {{ inlined_cte(on_incremental=true) }} (
    select
        reference_date,
        {{ cell_columns[2:] | join(',\n        ') }},
        outcome,
        release_seconds,
        km_seconds,
        is_km_event,
        is_outlier,
        target_hours,
        is_within_target,
        _refreshed_at
    from {{ ref('int_trs_release_outcomes') }}
),

-- The declarations of the months computed (every month on a full build). Read twice (the times,
-- and the hours holding a censored declaration), so DuckDB materializes it on a night.
in_months as {{ inlined_cte() }} (
    select
        'month' as period_type,
        cast(date_trunc('month', reference_date) as date) as period_start,
        *
    from declarations
    {%- if months is not none %}
    where {{ trs_in_periods('reference_date', months, 'month') }}
    {%- endif %}
),

month_cells as (
    {{ trs_period_cell_rows('in_months') }}
),

-- Every month of the years computed: those just counted and, on a night, the others of their
-- years as this table holds them (the pre-hook deleted the recomputed ones).
year_months as (
    select * from month_cells
    {%- if months is not none %}
    union all
    select {{ (cell_columns + ['km_seconds'] + trs_period_cell_measures() | map(attribute=0) | list) | join(', ') }}
    from {{ this }}
    where period_type = 'month' and {{ trs_in_periods('period_start', months, 'year') }}
    {%- endif %}
),

censored_hours as (
    {{ trs_censored_year_hours('year_months') }}
),

-- The years' declarations in those hours, counted per second. Read twice, like in_months. The
-- range on the computed years, besides the join, keeps the other years' declarations out of the
-- join: without it a night read every year held.
in_censored_hours as (
    select
        'year' as period_type,
        cast(date_trunc('year', d.reference_date) as date) as period_start,
        d.*
    from declarations as d
    {{ semi_join() }} censored_hours as h
        on cast(date_trunc('year', d.reference_date) as date) = h.period_start
            and {{ trs_km_hour('d.km_seconds') }} = h.km_hour
    {%- if months is not none %}
    where {{ trs_in_periods('d.reference_date', months, 'year') }}
    {%- endif %}
),

cells as (
    select * from month_cells
    union all
    {{ trs_year_cells_from_months('year_months', 'censored_hours') }}
    union all
    {{ trs_period_cell_rows('in_censored_hours') }}
)

select
    *,
    {{ targets_version }} as reference_version
from cells
{#- In period order on a full build, as the nights append them: the marts read a night's periods
    by their dates (trs_cells_in_months), and DuckDB skips the other years' row groups. #}
{{ in_date_order_on_full_build('period_start', is_incremental()) }}
