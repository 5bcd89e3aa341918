{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['source', 'period_type', 'period_start'],
        on_schema_change='fail'
    )
}}
-- Cargo Selectivity inspection performance (DOMAIN.md section 3): inspections, detections and
-- their rates per period x customs office x mode of transport x import type, with 'ALL' in
-- every combination of rolled-up dimensions (a cube). Every row is computed from declarations,
-- rollups included, and from one source only: the KCS extract (inspected declarations only, so
-- no total and no inspection rate) or the sample world's clearance logs (all declarations, no
-- import type and no critical outcome).
-- Incremental: a night recomputes only the months and years of a source that hold a declaration
-- changed since the last build (for KCS also the months of its earlier versions, in case a
-- correction moved its Date); their old rows are replaced whole.
-- depends_on: {{ ref('stg_kcs__import_declaration_versions') }}

with in_periods as (
    {{ cs_period_rows(ref('int_cs_inspections')) }}
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
        {{ cs_inspection_measures() }},
        cast(null as bigint) as declarations_total,
        cast(null as double) as inspection_rate,
        max(_changed_at) as source_refreshed_at
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
        {{ cs_inspection_measures() }},
        count(*) as declarations_total,
        round(count(*) filter (where is_inspected) / count(*), 6) as inspection_rate,
        max(_changed_at) as source_refreshed_at
    from in_periods
    where source = 'clearance_log'
    group by source, period_type, period_start, cube(customs_office, transport_mode)
)

select * from kcs_extract
union all
select * from clearance_log
