{# Layer schemas are named as written (staging, intermediate, marts), not prefixed with the
   target schema, so BI tools and the snapshot see stable names. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
