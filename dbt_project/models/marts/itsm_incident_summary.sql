-- Incidents per ITSM instance, month opened and priority ('ALL' = every priority). An incident
-- counts in the month it was opened, in its latest state (latest update).
with incidents as (
    select * from {{ ref('int_itsm_incidents') }}
)

select
    source_system,
    opened_month as period_start,
    case when grouping(priority) = 1 then 'ALL' else priority end as priority,
    count(*) as opened,
    count(*) filter (where is_resolved) as resolved,
    count(*) filter (where not is_resolved) as still_open,
    -- Exact: integer milliseconds and counts, divided once (macros/exact.sql).
    {{ exact_mean('restore_ms', 3600000) }} as mttr_hours,
    {{ exact_share('made_sla') }} as made_sla_share,
    {{ exact_share('was_reopened') }} as reopened_share,
    count(*) filter (where is_system_failure) as system_failures
from incidents
-- GROUP BY GROUPING SETS below: DuckDB runs it, the linter's duckdb dialect cannot parse it.
-- noqa: disable=PRS
group by grouping sets ((source_system, opened_month, priority), (source_system, opened_month))
