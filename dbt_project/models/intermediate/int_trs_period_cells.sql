{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['period_type', 'period_start'],
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
-- changed (reference_version); their old rows are replaced whole.
-- The incremental filter reads the milestones (trs_changed_months):
-- depends_on: {{ ref('int_declaration_milestones') }}
{%- set targets_version = reference_fingerprint(
    ref('trs_targets'), ['transport_mode', 'declaration_type', 'target_hours', 'valid_from', 'valid_to']
) %}
{%- set cell_columns = trs_km_cell_columns() + ['is_aeo', 'is_pre_arrival', 'is_oga_required'] %}

with declarations as (
    select * from {{ ref('int_trs_release_outcomes') }}
),

in_periods as {{ inlined_cte() }} (
    {{ trs_period_rows('declarations', censoring=true, reference=targets_version) }}
),

cells as (
    {%- set cell_aggregates %}
        count(*) as declarations,
        {{ trs_seconds_sums('r.release_seconds') }},
        min(r.release_seconds) as min_seconds,
        max(r.release_seconds) as max_seconds,
        count(*) filter (where r.release_seconds <= 24 * 3600) as within_24h,
        count(*) filter (where r.release_seconds <= 48 * 3600) as within_48h,
        count(*) filter (where r.is_outlier) as outliers,
        count(*) filter (where r.outcome = 'still_waiting') as still_waiting,
        count(*) filter (where r.outcome = 'release_not_logged') as release_not_logged,
        count(r.target_hours) as with_target,
        min(r.target_hours) as min_target_hours,
        max(r.target_hours) as max_target_hours,
        count(r.is_within_target) as released_with_target,
        count(*) filter (where r.is_within_target) as within_target,
        {{ trs_km_counts('r') }},
        max(r._refreshed_at) as source_refreshed_at
    {%- endset %}
    {{ trs_km_row_hours('in_periods', cell_columns, aggregates=cell_aggregates, timed_only=false) }}
)

select
    *,
    {{ targets_version }} as reference_version
from cells
