{{ config(materialized='view') }}
-- The Balanced Scorecard: every KPI of the catalogue (seeds/kpi_catalogue.csv) in its year, with
-- the actual value of its KPI model and the achievement against the target levels. A view over
-- every KPI model (models/kpis/), each through ref() (macro kpi_actuals). A KPI whose model does
-- not exist, or whose source has no data for the year, shows 'no data' and a NULL actual value,
-- never zero.
-- The KPI models, declared as parents (dbt records them while it parses, before it knows the
-- models; swpm sets SWPM_KPI_MODELS to the models in models/kpis/):
{%- for kpi in env_var('SWPM_KPI_MODELS', '').split(',') if kpi.strip() %}
-- depends_on: {{ ref(kpi.strip()) }}
{%- endfor %}
with catalogue as (
    select * from {{ ref('kpi_catalogue') }}
),

actuals as (
    select kpi_model, year, max(actual_value) as actual_value
    from (
        {{- kpi_actuals() | indent(8) }}
    ) as kpi_values
    group by all
)

select
    cast(c.year as integer) as year,
    c.kpi_code,
    c.kpi_name,
    c.perspective,
    c.owner,
    c.unit,
    c.direction,
    cast(c.target_value as double) as target_value,
    cast(c.threshold_value as double) as threshold_value,
    c.kpi_model,
    c.source_mart,
    c.source_column,
    a.actual_value,
    {{ kpi_achievement_pct('a.actual_value', 'c.target_value', 'c.direction') }} as achievement_pct,
    {{ kpi_status('a.actual_value', 'c.target_value', 'c.threshold_value', 'c.direction') }} as status
from catalogue c
left join actuals a on a.kpi_model = c.kpi_model and a.year = c.year
