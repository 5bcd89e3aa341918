-- CUM_NET_BENEFIT: cumulative booked savings minus cumulative investment, billions of KRW.
select year, round(net_cumulative_position_krw / 1e9, 1) as actual_value
from {{ ref('cost_benefit_yearly') }}
