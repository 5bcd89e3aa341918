{# Balanced Scorecard helpers (satisfaction, KPI achievement, the KPI actuals register). #}

{# A Likert answer (1..points) on a 0-100 scale: 1 -> 0, points -> 100. #}
{% macro likert_to_100(score, points=var('satisfaction_scale_points')) -%}
    (100.0 * ({{ score }} - 1) / ({{ points }} - 1))
{%- endmacro %}

{# True when a Likert answer is in the top two boxes (4 or 5 on a 1-5 scale). #}
{% macro is_top_2_box(score, points=var('satisfaction_scale_points')) -%}
    ({{ score }} >= {{ points }} - 1)
{%- endmacro %}

{# Status of a KPI's actual value against its target levels: 'achieved' when it meets the
   target, 'partially' when it meets the threshold, 'missed' otherwise, 'no data' without an
   actual value (never zero). direction: 'higher' or 'lower' is better. #}
{% macro kpi_status(actual, target, threshold, direction) -%}
    case
        when {{ actual }} is null or {{ target }} is null then 'no data'
        when ({{ direction }} = 'higher' and {{ actual }} >= {{ target }})
          or ({{ direction }} = 'lower' and {{ actual }} <= {{ target }}) then 'achieved'
        when ({{ direction }} = 'higher' and {{ actual }} >= {{ threshold }})
          or ({{ direction }} = 'lower' and {{ actual }} <= {{ threshold }}) then 'partially'
        else 'missed'
    end
{%- endmacro %}

{# Actual as a percentage of the target, oriented so 100 = on target and more is better. NULL
   when it cannot be computed (no actual, a zero target or, lower-is-better, a zero actual). #}
{% macro kpi_achievement_pct(actual, target, direction) -%}
    round(case
        when {{ direction }} = 'higher' then 100.0 * {{ actual }} / nullif({{ target }}, 0)
        else 100.0 * {{ target }} / nullif({{ actual }}, 0)
    end, 2)
{%- endmacro %}

{# The KPI models dbt knows now (models under models/kpis/), by name: the scorecard only takes
   actual values from these, so a catalogue entry whose model is absent (not written yet, or
   removed) shows 'no data'. Empty while dbt parses (the graph exists only at execution). #}
{% macro kpi_model_names() -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.package_name == project_name and node.fqn[1] == 'kpis' -%}
                {%- do names.append(node.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names | sort) }}
{%- endmacro %}

{# SQL condition: `column` names a KPI model that exists now. #}
{% macro is_existing_kpi_model(column) -%}
    {%- set names = kpi_model_names() -%}
    {%- if names -%}
        {{ column }} in ({% for n in names %}'{{ n }}'{{ ", " if not loop.last }}{% endfor %})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}

{# on-run-start: the register of KPI actual values that every KPI model writes into after it
   is built (see record_kpi_actuals). Rows of KPI models that no longer exist are dropped. #}
{% macro prepare_kpi_actuals() -%}
    create schema if not exists kpis;
    create table if not exists kpis.kpi_actuals (
        kpi_model varchar not null,
        year integer not null,
        actual_value double,
        recorded_at timestamp not null
    );
    delete from kpis.kpi_actuals where not ({{ is_existing_kpi_model('kpi_model') }})
{%- endmacro %}

{# post-hook of every KPI model: replace its rows in the register with what it returns now.
   The register decouples the scorecard from the build order of the KPI models, so a new KPI
   needs no edit to the scorecard. #}
{% macro record_kpi_actuals() -%}
    delete from kpis.kpi_actuals where kpi_model = '{{ this.identifier }}';
    insert into kpis.kpi_actuals
    select '{{ this.identifier }}', cast(year as integer), cast(actual_value as double), now()::timestamp
    from {{ this }}
    where year is not null
{%- endmacro %}
