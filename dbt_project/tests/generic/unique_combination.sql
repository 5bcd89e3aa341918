{% test unique_combination(model, combination) %}
-- Rows whose combination of columns is not unique.
select {{ combination | join(', ') }}, count(*) as n
from {{ model }}
group by {{ combination | join(', ') }}
having count(*) > 1
{% endtest %}
