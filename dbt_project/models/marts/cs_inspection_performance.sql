{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='append',
        pre_hook="{{ cs_delete_changed_periods() }}",
        on_schema_change='fail'
    )
}}
-- Cargo Selectivity inspection performance (DOMAIN.md section 3): inspections, detections and
-- their rates per period x customs office x mode of transport x import type, with 'ALL' in
-- every combination of rolled-up dimensions (a cube). Every row is computed from one source
-- only: the KCS extract (inspected declarations only, so no total and no inspection rate) or the
-- sample world's clearance logs (all declarations, no import type and no critical outcome).
-- Every measure is a count or an exact decimal sum, so each row, rollups included, adds up the
-- months' counts of int_cs_inspection_monthly: the same figures as counting the declarations.
-- Incremental: a night recomputes only the months and years of a source that hold a declaration
-- changed since the last build (for KCS also the months of its earlier versions, in case a
-- correction moved its Date): their old rows are deleted (cs_delete_changed_periods, also those
-- of a month left with no declaration) and the new ones appended. A year reads its months' rows.
-- The changed months are read from the declarations (cs_changed_month_list):
-- depends_on: {{ ref('int_cs_inspections') }}
-- depends_on: {{ ref('stg_kcs__import_declaration_versions') }}

with in_periods as (
    {{ cs_period_rows(ref('int_cs_inspection_monthly')) }}
),

kcs_extract as (
    select
        source,
        period_type,
        period_start,
        {{ rollup_dim('customs_office') }} as customs_office,
        {{ rollup_dim('transport_mode') }} as transport_mode,
        {{ rollup_dim('import_type') }} as import_type,
        {{ cs_grouping_set_name([('customs_office', 'office'), ('transport_mode', 'mode'), ('import_type', 'type')]) }}
            as grouping_set,
        {{ cs_inspection_sums() }},
        cast(null as bigint) as declarations_total,
        cast(null as double) as inspection_rate,
        max(source_refreshed_at) as source_refreshed_at
    from in_periods
    where source = 'kcs_extract'
    group by source, period_type, period_start, cube(customs_office, transport_mode, import_type)
),

clearance_log as (
    select
        source,
        period_type,
        period_start,
        {{ rollup_dim('customs_office') }} as customs_office,
        {{ rollup_dim('transport_mode') }} as transport_mode,
        'ALL' as import_type,
        {{ cs_grouping_set_name([('customs_office', 'office'), ('transport_mode', 'mode')]) }} as grouping_set,
        {{ cs_inspection_sums() }},
        cast(sum(declarations) as bigint) as declarations_total,
        round(sum(inspections) / sum(declarations), 6) as inspection_rate,
        max(source_refreshed_at) as source_refreshed_at
    from in_periods
    where source = 'clearance_log'
    group by source, period_type, period_start, cube(customs_office, transport_mode)
)

select * from kcs_extract
union all
select * from clearance_log
