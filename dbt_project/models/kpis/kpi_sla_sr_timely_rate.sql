-- SLA_SR_TIMELY_RATE: timely processing rate of service requests (SLA indicator
-- SR_TIMELY_PROCESSING_RATE), percent, over the whole contract year: the contract-year-to-date
-- value at the contract year's last measured month.
select contract_year as year, measured_value as actual_value
from {{ ref('sla_indicator_monthly') }}
where indicator_code = 'SR_TIMELY_PROCESSING_RATE'
    and period_type = 'contract_year_to_date'
    and measured_value is not null
qualify row_number() over (partition by contract_year order by period_start desc) = 1
