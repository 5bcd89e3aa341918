-- SW_USAGE_RATE: usage rate of the Single Window, percent.
select year, usage_rate_pct as actual_value
from {{ ref('usage_rate_yearly') }}
