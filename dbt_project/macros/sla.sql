{# Attainment band of a measured value against its levels (DOMAIN.md section 4): 'goal' if it
   meets the goal level, else 'basic', else 'minimum', else 'below_minimum'; "meets" is >= for
   higher_is_better and <= for lower_is_better. NULL when nothing was measured. #}
{% macro sla_attainment(value, direction, goal, basic, minimum) -%}
    case
        when {{ value }} is null then null
        when {{ direction }} = 'higher_is_better' then
            case
                when {{ value }} >= {{ goal }} then 'goal'
                when {{ value }} >= {{ basic }} then 'basic'
                when {{ value }} >= {{ minimum }} then 'minimum'
                else 'below_minimum'
            end
        when {{ direction }} = 'lower_is_better' then
            case
                when {{ value }} <= {{ goal }} then 'goal'
                when {{ value }} <= {{ basic }} then 'basic'
                when {{ value }} <= {{ minimum }} then 'minimum'
                else 'below_minimum'
            end
    end
{%- endmacro %}

{# SQL list of the configured values of a list var, e.g. ('1 - Critical', '2 - High'). #}
{% macro sql_string_list(values) -%}
    {%- if values | length == 0 -%}(null){%- else -%}
    ({%- for v in values -%}'{{ v | replace("'", "''") }}'{{ ", " if not loop.last }}{%- endfor -%})
    {%- endif -%}
{%- endmacro %}
