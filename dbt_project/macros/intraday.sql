{# The moment trs_today describes (Korea time, naive like the logs): SWPM_TODAY_AS_OF, which
   the intraday run sets to its own time (ingest/run/intraday.py), else now in Korea. The value
   comes from the pipeline (an ISO timestamp it formats itself), never from data. #}
{% macro trs_today_as_of() -%}
    {%- set as_of = env_var('SWPM_TODAY_AS_OF', '') -%}
    {%- if as_of -%}
        cast('{{ as_of }}' as timestamp)
    {%- else -%}
        {{ now_in_korea() }}
    {%- endif -%}
{%- endmacro %}
