{# The newest value of `column` in `relation` (an incremental model's own table), as a SQL
   literal: a literal lets DuckDB skip the row groups loaded before it by their min/max, which a
   subquery does not. '-infinity' when the table is empty. #}
{% macro watermark_literal(relation, column) -%}
    {%- if not execute -%}{{ return("'-infinity'::timestamp") }}{%- endif -%}
    {%- set newest = run_query("select coalesce(max(" ~ column ~ "), '-infinity'::timestamp)::varchar from " ~ relation).columns[0].values()[0] -%}
    {{ return("'" ~ newest ~ "'::timestamp") }}
{%- endmacro %}

{# The load time through which the last successful build read every file, as a SQL literal: the
   time the pipeline passes in SWPM_TESTS_SINCE (ingest/run/dbt.py, from meta.dbt_builds), or the
   earliest time (every row) on a full refresh, a first build or a build outside the pipeline. #}
{% macro last_build_loaded_through() -%}
    {%- set since = env_var('SWPM_TESTS_SINCE', '') -%}
    {{ return("'" ~ since ~ "'::timestamp" if since and not flags.FULL_REFRESH else earliest_timestamp()) }}
{%- endmacro %}

{# Tests of the big clearance tables check the rows loaded since the last successful build, not
   the whole history, on a nightly build: their `where` config says `<column> > __last_tested__`,
   which becomes last_build_loaded_through(). Rows already in the tables passed the same tests
   when they came. dbt's own get_where_subquery, with the placeholder filled in. #}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set since = last_build_loaded_through() -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where | replace('__last_tested__', since) }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{# `order by column` on a full build (`incremental` false), nothing on a night: a full build writes
   the rows in order of their date, as the nights append them. The marts read a period by its
   dates, and DuckDB skips the row groups outside it only if the table is in that order (at
   three years of history, unordered, each night read all three). #}
{% macro in_date_order_on_full_build(column, incremental) -%}
    {%- if not incremental %}
order by {{ column }}
    {%- endif %}
{%- endmacro %}

{# The same for a model whose rows are worked out row by row from an input already in date order
   (int_declaration_milestones): on DuckDB nothing, the rows come out in about the input's order.
   DuckDB hands its threads consecutive row groups and each thread writes its rows in turn, so
   without a sort every row group written spans a few days: for int_trs_party_seconds at a year,
   a median of 1 day and at most 8 (docs/performance.md, the ninth pass), while the sort of its
   40.7 million rows took a quarter of the model. Other engines sort. #}
{% macro in_date_order_of_input_on_full_build(column, incremental) -%}
    {{ return(adapter.dispatch('in_date_order_of_input_on_full_build')(column, incremental)) }}
{%- endmacro %}
{% macro default__in_date_order_of_input_on_full_build(column, incremental) -%}
    {{ in_date_order_on_full_build(column, incremental) }}
{%- endmacro %}
{% macro duckdb__in_date_order_of_input_on_full_build(column, incremental) -%}{%- endmacro %}
