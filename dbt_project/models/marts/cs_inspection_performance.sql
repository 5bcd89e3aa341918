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

with declarations as (
    select * from {{ ref('int_cs_inspections') }}
    where reference_date is not null
),

{% if is_incremental() %}
watermarks as (
    select source, max(source_refreshed_at) as refreshed_through from {{ this }} group by source
),

changed as (
    select d.source, d.declaration_id, d.reference_date
    from declarations as d
    left join watermarks as w on w.source = d.source
    where d._changed_at > coalesce(w.refreshed_through, '1900-01-01'::timestamp)
),

changed_months as (
    select distinct source, date_trunc('month', reference_date) as month from changed
    union
    select distinct 'kcs_extract' as source, date_trunc('month', v.declaration_date) as month
    from {{ ref('stg_kcs__import_declaration_versions') }} as v
    where v.declaration_id in (select declaration_id from changed where source = 'kcs_extract')
),
{% endif %}

in_periods as (
    select 'month' as period_type, cast(date_trunc('month', reference_date) as date) as period_start, *
    from declarations as d
    {% if is_incremental() -%}
    where
        exists (
            select 1 from changed_months as c
            where c.source = d.source and c.month = date_trunc('month', d.reference_date)
        )
    {%- endif %}
    union all
    select 'year' as period_type, cast(date_trunc('year', reference_date) as date) as period_start, *
    from declarations as d
    {% if is_incremental() -%}
    where
        exists (
            select 1 from changed_months as c
            where c.source = d.source and date_trunc('year', c.month) = date_trunc('year', d.reference_date)
        )
    {%- endif %}
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
