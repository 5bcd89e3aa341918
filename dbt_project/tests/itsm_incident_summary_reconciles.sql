-- The 'ALL' row of each ITSM instance and month counts the incidents of its priority rows and
-- the incidents the intermediate model holds for that month.
with all_rows as (
    select source_system, period_start, opened
    from {{ ref('itsm_incident_summary') }}
    where priority = 'ALL'
),

by_priority as (
    select source_system, period_start, sum(opened) as priority_sum
    from {{ ref('itsm_incident_summary') }}
    where priority <> 'ALL'
    group by all
),

incidents as (
    select source_system, opened_month as period_start, count(*) as incidents
    from {{ ref('int_itsm_incidents') }}
    group by all
)

select a.*, p.priority_sum, i.incidents
from all_rows as a
full outer join by_priority as p using (source_system, period_start)
full outer join incidents as i using (source_system, period_start)
where a.opened is distinct from p.priority_sum or a.opened is distinct from i.incidents
