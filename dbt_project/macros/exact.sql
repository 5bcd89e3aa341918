{# Order-independent statistics (docs/development.md#the-same-data-gives-the-same-marts): a
   floating-point sum depends on the order its rows arrive in (and on DuckDB's threads), so two
   homes with the same data could differ in the last digit. Every mean and share of a mart is
   a sum of exact integers (milliseconds, counts) or of decimals, divided once at the end. #}

{# Mean of an integer column, divided by `unit` (e.g. 1000 for milliseconds -> seconds):
   sum(integer) is exact (HUGEINT), and a single division of exact numbers is the same on
   every run. NULL when no row has a value. #}
{% macro exact_mean(integer_value, unit=1) -%}
    (sum({{ integer_value }}) / nullif(count({{ integer_value }}) * {{ unit }}, 0))
{%- endmacro %}

{# Share (0-1) of the rows where `condition` holds: a ratio of two counts. #}
{% macro exact_share(condition) -%}
    (count(*) filter (where {{ condition }}) / nullif(count(*), 0))
{%- endmacro %}

{# Milliseconds from `from_ts` to `to_ts`, an exact integer. #}
{% macro milliseconds_between(from_ts, to_ts) -%}
    ({{ epoch_milliseconds(to_ts) }} - {{ epoch_milliseconds(from_ts) }})
{%- endmacro %}
