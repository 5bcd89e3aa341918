-- Cargo Selectivity inspection performance (DOMAIN.md section 3): inspections, detections and
-- their rates per period x customs office x mode of transport x import type, with 'ALL' in
-- every combination of rolled-up dimensions (a cube). Every row is computed from declarations,
-- rollups included, and from one source only: the KCS extract (inspected declarations only, so
-- no total and no inspection rate) or the sample world's clearance logs (all declarations, no
-- import type and no critical outcome).

with declarations as (
    select * from {{ ref('int_cs_inspections') }}
    where reference_date is not null
),

in_periods as (
    select 'month' as period_type, cast(date_trunc('month', reference_date) as date) as period_start, *
    from declarations
    union all
    select 'year' as period_type, cast(date_trunc('year', reference_date) as date) as period_start, *
    from declarations
),

kcs_extract as (
    select
        source,
        period_type,
        period_start,
        {{ rollup_dim('customs_office') }} as customs_office,
        {{ rollup_dim('transport_mode') }} as transport_mode,
        {{ rollup_dim('import_type') }} as import_type,
        {{ cs_grouping_set_name([('customs_office', 'office'), ('transport_mode', 'mode'), ('import_type', 'type')]) }} as grouping_set,
        {{ cs_inspection_measures() }},
        cast(null as bigint) as declarations_total,
        cast(null as double) as inspection_rate
    from in_periods
    where source = 'kcs_extract'
    group by source, period_type, period_start, cube (customs_office, transport_mode, import_type)
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
        round(count(*) filter (where is_inspected) / count(*), 6) as inspection_rate
    from in_periods
    where source = 'clearance_log'
    group by source, period_type, period_start, cube (customs_office, transport_mode)
)

select * from kcs_extract
union all
select * from clearance_log
