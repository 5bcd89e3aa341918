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

{# The measures of cs_inspection_performance over rows of int_cs_inspection_monthly: sums of
   its months' counts, and of the detected value, an exact decimal (int_cs_inspections rounds each
   value to the won cent before the sum), so the figures are those of the declarations themselves
   whatever order they arrive in. A source that logs no critical outcome (is_critical_detected
   all null) gets null critical figures, not zero. #}
{% macro cs_inspection_sums() -%}
    {%- set critical = "case when sum(critical_logged) > 0 then sum(critical_detections) end" -%}
    cast(sum(inspections) as bigint) as inspections,
    cast(sum(detections) as bigint) as detections,
    cast({{ critical }} as bigint) as critical_detections,
    round(sum(detections) / nullif(sum(inspections), 0), 6) as hit_rate,
    round({{ critical }} / nullif(sum(inspections), 0), 6) as critical_rate,
    cast(sum(detected_value_krw) as double) as detected_value_krw
{%- endmacro %}

{# Each source's changed months (cs_changed_month_list), read once per use: {source: months}. #}
{% macro cs_changed_months_by_source() -%}
    {{ return({
        'clearance_log': cs_changed_month_list('clearance_log'),
        'kcs_extract': cs_changed_month_list('kcs_extract'),
    }) }}
{%- endmacro %}

{# A condition on rows of `source_column` and the date `date_column`: in one of the `part`
   ('month' or 'year') periods of their source's months in `months_of`
   (cs_changed_months_by_source), a range on the date first, for DuckDB to prune by. On one
   line: it sits inside a model's where. #}
{% macro cs_in_periods(months_of, source_column, date_column, part) -%}
    {%- for source, months in months_of.items() -%}
    {{ '(' if loop.first else ' or ' }}({{ source_column }} = '{{ source }}' and {{ trs_in_periods(date_column, months, part) | replace('\n', ' ') }}){{ ')' if loop.last }}
    {%- endfor -%}
{%- endmacro %}

{# int_cs_inspection_monthly's pre-hook on an incremental build: its rows of the months it
   computes again, deleted before they are appended, also where a month has no declaration left. #}
{% macro cs_delete_changed_months() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where {{ cs_in_periods(cs_changed_months_by_source(), 'source', 'month_start', 'month') }}
    {%- endif -%}
{%- endmacro %}

{# cs_inspection_performance's pre-hook on an incremental build: its rows of the months and years
   it computes again, deleted before they are appended, also where a month has no declaration
   left (a KCS correction moved its only declaration to another Date). #}
{% macro cs_delete_changed_periods() -%}
    {%- if is_incremental() -%}
    {%- set months_of = cs_changed_months_by_source() -%}
    delete from {{ this }}
    where (period_type = 'month' and {{ cs_in_periods(months_of, 'source', 'period_start', 'month') }})
        or (period_type = 'year' and {{ cs_in_periods(months_of, 'source', 'period_start', 'year') }})
    {%- endif -%}
{%- endmacro %}

{# The months of `relation` (int_cs_inspection_monthly) placed in their month and in their year.
   On an incremental build only the changed months and years of each source
   (cs_changed_months_by_source), whose old rows cs_delete_changed_periods deletes; a year is
   read as its months' rows. Filtered by literal dates per source, as trs_period_rows
   (macros/trs.sql). #}
{% macro cs_period_rows(relation) -%}
    {{ rows_in_their_periods(relation, 'month_start') }}
    {%- if is_incremental() %}
    {%- set months_of = cs_changed_months_by_source() %}
    where {{ cs_in_periods(months_of, 'r.source', 'r.month_start', 'year') }}
        and (p.period_type = 'year' or {{ cs_in_periods(months_of, 'r.source', 'r.month_start', 'month') }})
    {%- endif %}
{%- endmacro %}
