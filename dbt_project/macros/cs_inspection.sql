{# The measures of the C/S inspection mart over rows of int_cs_inspections. A source that logs
   no critical outcome (is_critical_detected all null) gets null critical figures, not zero.
   value_krw is DECIMAL (int_cs_inspections rounds each value to the won cent before the sum),
   so the detected value is an exact sum, the same whatever order the rows arrive in. #}
{% macro cs_inspection_measures() -%}
    {%- set inspections = "count(*) filter (where is_inspected)" -%}
    {%- set detections = "count(*) filter (where is_inspected and is_detected)" -%}
    {%- set critical = "case when count(is_critical_detected) > 0 then count(*) filter (where is_inspected and is_critical_detected) end" -%}
    {{ inspections }} as inspections,
    {{ detections }} as detections,
    {{ critical }} as critical_detections,
    round({{ detections }} / nullif({{ inspections }}, 0), 6) as hit_rate,
    round({{ critical }} / nullif({{ inspections }}, 0), 6) as critical_rate,
    cast(coalesce(sum(value_krw) filter (where is_inspected and is_detected), 0) as double) as detected_value_krw
{%- endmacro %}

{# Which dimensions a grouped row keeps: 'period', 'period+office', 'period+office+mode+type', ... #}
{% macro cs_grouping_set_name(dims) -%}
    concat_ws('+', 'period'
    {%- for column, short in dims %}, case when grouping({{ column }}) = 0 then '{{ short }}' end{% endfor %})
{%- endmacro %}

{# The months an incremental build of cs_inspection_performance recomputes for one source, as a
   sorted list of dates ('YYYY-MM-DD') read when the model compiles (month_list, macros/trs.sql):
   the months of the source's declarations changed since its rows were last built, and for the
   KCS extract also the months of a changed declaration's earlier versions (a correction may
   have moved its Date). #}
{% macro cs_changed_month_list(source) -%}
    {%- set days -%}
        with changed as (
            select declaration_id, reference_date
            from {{ ref('int_cs_inspections') }}
            where source = '{{ source }}'
                and reference_date is not null
                and _changed_at > coalesce(
                    (select max(source_refreshed_at) from {{ this }} where source = '{{ source }}'),
                    cast('1900-01-01' as timestamp)
                )
        )

        select reference_date from changed
        {%- if source == 'kcs_extract' %}
        union all
        select v.declaration_date
        from {{ ref('stg_kcs__import_declaration_versions') }} as v
        where v.declaration_id in (select declaration_id from changed)
        {%- endif %}
    {%- endset -%}
    {{ return(month_list(days)) }}
{%- endmacro %}

{# The declarations of `relation` (int_cs_inspections) with a reference date, placed in their
   month and in their year. On an incremental build only the changed months and years of each
   source (cs_changed_month_list), whose old rows delete+insert replaces whole. One read for
   both period types, filtered by literal dates with a range on reference_date first, as
   trs_period_rows (macros/trs.sql): a CTE read twice is materialized whole, and a subquery's
   months do not let the scan skip earlier row groups. #}
{% macro cs_period_rows(relation) -%}
    {%- if is_incremental() -%}
    {%- set months_of = {
        'clearance_log': cs_changed_month_list('clearance_log'),
        'kcs_extract': cs_changed_month_list('kcs_extract'),
    } -%}
    {%- endif %}
    {{ rows_in_their_periods(relation) }}
    where r.reference_date is not null
    {%- if is_incremental() %}
        and (
            {%- for source, months in months_of.items() %}
            {{ 'or ' if not loop.first }}(r.source = '{{ source }}' and {{ trs_in_periods('r.reference_date', months, 'year') }})
            {%- endfor %}
        )
        and (
            p.period_type = 'year'
            {%- for source, months in months_of.items() %}
            or (r.source = '{{ source }}' and {{ trs_in_periods('r.reference_date', months, 'month') }})
            {%- endfor %}
        )
    {%- endif %}
{%- endmacro %}
