{# Balanced Scorecard helpers (satisfaction, KPI achievement, the KPI actuals register). #}

{# Mean of Likert answers (1..points) on a 0-100 scale (1 -> 0, points -> 100), from exact
   integer sums divided once: 100 * (sum(score) - count) / (count * (points - 1)), the mean of
   100 * (score - 1) / (points - 1) over the answers, the same whatever order they arrive in. #}
{% macro likert_mean_100(score, points=var('satisfaction_scale_points')) -%}
    (100 * (sum({{ score }}) - count({{ score }})) / nullif(count({{ score }}) * ({{ points }} - 1), 0))
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
        when {{ direction }} = 'higher' then {{ hundred() }} * {{ actual }} / nullif({{ target }}, 0)
        else {{ hundred() }} * {{ target }} / nullif({{ actual }}, 0)
    end, 2)
{%- endmacro %}

{# The KPI models (every model under models/kpis/), by name, from dbt's graph. Empty while dbt
   parses (the graph exists only at execution). #}
{% macro kpi_model_names() -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for node in graph.get('nodes', {}).values() -%}
            {%- if node.resource_type == 'model' and node.package_name == project_name and node.fqn[1] == 'kpis' -%}
                {%- do names.append(node.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names | sort) }}
{%- endmacro %}

{# The actual values of every KPI model (kpi_model, year, actual_value), each read through
   ref(), so that dbt's lineage shows which KPI feeds the scorecard and builds the KPI models
   first. dbt records a model's parents while it parses the project, before the graph exists:
   kpi_scorecard declares them (`-- depends_on`) from SWPM_KPI_MODELS, which swpm sets to the
   models in models/kpis/ (ingest/run/dbt.py). A KPI model missing there is an error, never a
   KPI silently left out. #}
{% macro kpi_actuals() -%}
    {%- for kpi in kpi_model_names() %}
        {%- if execute and model.resource_type == 'model' and 'model.' ~ project_name ~ '.' ~ kpi not in model.depends_on.nodes %}
            {{- exceptions.raise_compiler_error(
                "KPI model " ~ kpi ~ " is not a declared parent of " ~ model.name ~ ": run dbt through swpm, "
                ~ "which declares every model of models/kpis/ (SWPM_KPI_MODELS, ingest/run/dbt.py), "
                ~ "or set SWPM_KPI_MODELS to their names, comma-separated") }}
        {%- endif %}
    select '{{ kpi }}' as kpi_model, cast(year as integer) as year, cast(actual_value as double) as actual_value
    from {{ ref(kpi) }}
    where year is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select cast(null as {{ string_type() }}) as kpi_model, cast(null as integer) as year, cast(null as double) as actual_value
    where false
    {%- endfor %}
{%- endmacro %}

{# The question items of the satisfaction survey (columns q01_.. of the survey sources). #}
{% macro survey_items() -%}
    {{ return(['q01_overall_satisfaction', 'q02_ease_of_use', 'q03_processing_speed', 'q04_system_stability',
               'q05_helpdesk_support', 'q06_information_accuracy']) }}
{%- endmacro %}
