{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='append',
        pre_hook="{{ cs_delete_changed_months() }}",
        on_schema_change='fail'
    )
}}
-- C/S inspection counts per source, month of reference date and finest group (customs office,
-- mode, import type). Every measure of cs_inspection_performance is a count or an exact decimal
-- sum, so the mart adds these up into its months and years: a year is the sum of its months to
-- the last cent, and a night reads the months it changed, not every declaration of the year.
-- Incremental: a night deletes each source's changed months (cs_changed_month_list, with a
-- changed KCS declaration's earlier months, which may have no declaration left) and appends
-- them again.
-- depends_on: {{ ref('stg_kcs__import_declaration_versions') }}
{%- set changed_months = cs_in_periods(cs_changed_months_by_source(), 'source', 'reference_date', 'month')
    if is_incremental() %}

select
    source,
    cast(date_trunc('month', reference_date) as date) as month_start,
    customs_office,
    transport_mode,
    import_type,
    count(*) as declarations,
    count(*) filter (where is_inspected) as inspections,
    count(*) filter (where is_inspected and is_detected) as detections,
    count(is_critical_detected) as critical_logged,
    count(*) filter (where is_inspected and is_critical_detected) as critical_detections,
    cast(coalesce(sum(value_krw) filter (where is_inspected and is_detected), 0) as decimal(38, 2))
        as detected_value_krw,
    max(_changed_at) as source_refreshed_at
from {{ ref('int_cs_inspections') }}
where reference_date is not null{% if is_incremental() %} and {{ changed_months }}{% endif %}
group by all
