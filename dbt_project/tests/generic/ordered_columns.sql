{% test ordered_columns(model, columns) %}
-- Rows whose `columns` are not in non-decreasing order, e.g. order statistics min <= median
-- <= p90 <= max. Each neighbouring pair is compared where both values are present.
select * from {{ model }}
where
    {%- for column in columns[:-1] %}
    {{ "or " if not loop.first }}{{ column }} > {{ columns[loop.index] }}
    {%- endfor %}
{% endtest %}
