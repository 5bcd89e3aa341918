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
