-- Declarations in the all-groups row of each period equal the intermediate model's count. One
-- read of it: the months counted, the years summed from them.
with months as (
    select cast(date_trunc('month', reference_date) as date) as period_start, count(*) as n
    from {{ ref('int_declaration_milestones') }}
    where reference_date is not null
    group by all
),

expected as (
    select 'month' as period_type, period_start, n from months
    union all
    select 'year' as period_type, cast(date_trunc('year', period_start) as date) as period_start, sum(n) as n
    from months
    group by all
)

select e.*, m.declarations
from expected as e
full outer join (select * from {{ ref('trs_release_time') }} where grouping_set = 'period') as m
    using (period_type, period_start)
where m.declarations is distinct from e.n
