-- SAT_OVERALL: overall user satisfaction, mean score 0-100 over all segments and items.
select year, mean_score_100 as actual_value
from {{ ref('satisfaction_yearly') }}
where segment = 'ALL' and item = 'ALL'
