{% test is_pseudonym(model, column_name) %}
-- Values that are not keyed pseudonyms ('p_' + 24 hex digits): a clear identifier got through.
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and not {{ full_match(column_name, 'p_[0-9a-f]{24}') }}
{% endtest %}
