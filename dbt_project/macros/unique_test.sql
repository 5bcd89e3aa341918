{# dbt's `unique` test on DuckDB (dispatched from dbt's own test, so every `unique:` in the YAML
   uses it): the same rows as dbt's SQL (each repeated value and its count), found in two steps.
   First the 64-bit hashes that repeat: grouping integers, not the values. Then the values
   repeated among the rows with one of those hashes: a value that repeats has a repeated hash, so
   nothing is missed, and a hash two values share only sends their rows to the second step. At a
   year the events' test (113 million event numbers, on the rebuild's critical path) took 23.3 s
   alone grouped as text, and 11.5 s so (docs/performance.md, the ninth pass).
   The hash is of the value reversed: DuckDB's hash of a string mixes its last 8-byte block
   weakly, so numbers that differ only at their end collide often (among the year's 113 million
   event numbers, 6.9 million hashes repeated; reversed, none). #}
{% macro duckdb__test_unique(model, column_name) %}
    {%- set value_hash = 'hash(reverse(cast(' ~ column_name ~ ' as varchar)))' %}

with repeated_hashes as (
    select {{ value_hash }} as value_hash
    from {{ model }}
    where {{ column_name }} is not null
    group by value_hash
    having count(*) > 1
)

select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
    and {{ value_hash }} in (select value_hash from repeated_hashes)
group by {{ column_name }}
having count(*) > 1

{% endmacro %}
