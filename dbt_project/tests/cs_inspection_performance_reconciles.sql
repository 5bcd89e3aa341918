-- Inspections in each source's all-groups row of each period equal the inspected declarations
-- of the intermediate model. One read of it: the months counted, the years summed from them.
with months as (
    select
        source,
        cast(date_trunc('month', reference_date) as date) as period_start,
        count(*) filter (where is_inspected) as n
    from {{ ref('int_cs_inspections') }}
    where reference_date is not null
    group by all
),

expected as (
    select source, 'month' as period_type, period_start, n from months
    union all
    select source, 'year' as period_type, cast(date_trunc('year', period_start) as date) as period_start, sum(n) as n
    from months
    group by all
)

select e.*, m.inspections
from expected as e
full outer join (
    select * from {{ ref('cs_inspection_performance') }} where grouping_set = 'period'
) as m
    using (source, period_type, period_start)
where m.inspections is distinct from e.n
