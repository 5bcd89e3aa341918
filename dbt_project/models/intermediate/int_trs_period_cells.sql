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
-- Incremental like trs_release_time: the months and years that received changed declarations,
-- or whose cargo still waiting the moving data horizon re-ages, and every period when trs_targets
-- changed (reference_version); their old rows are deleted first (the pre-hook), then the new
-- ones appended.
-- The incremental filter reads the milestones (trs_changed_months):
-- depends_on: {{ ref('int_declaration_milestones') }}
{%- set targets_version = trs_targets_version() %}

-- Only the columns used: in_periods is read twice (the times, and the hours holding a censored
-- declaration), so DuckDB materializes it on a night.
with declarations as (
    select
        reference_date,
        {{ trs_period_cell_columns()[2:] | join(',\n        ') }},
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

in_periods as {{ inlined_cte() }} (
    {{ trs_period_rows('declarations', censoring=true, reference=targets_version) }}
),

cells as (
    {{ trs_period_cell_rows('in_periods') }}
)

select
    *,
    {{ targets_version }} as reference_version
from cells
