-- One row per incident and ITSM instance: its latest update (highest sys_mod_count, then
-- sys_updated_at) is its state. System failure cases follow the configured rule (vars
-- itsm_failure_priorities, itsm_failure_categories).
with ranked as (
    select
        *,
        row_number() over (
            partition by source_system, incident_number
            order by sys_mod_count desc, sys_updated_at desc, _loaded_at desc
        ) as update_rank,
        count(*) over (partition by source_system, incident_number) as updates
    from {{ ref('stg_itsm__incident_updates') }}
)

select
    source_system,
    incident_number,
    cast(date_trunc('month', opened_at) as date) as opened_month,
    opened_at,
    priority,
    priority_code,
    category,
    incident_state as latest_state,
    sys_updated_at as last_updated_at,
    sys_mod_count,
    updates,
    incident_state in ('Resolved', 'Closed') as is_resolved,
    -- Restore time only where the resolution time is logged.
    case when incident_state in ('Resolved', 'Closed') then resolved_at end as restored_at,
    case
        when incident_state in ('Resolved', 'Closed') and resolved_at is not null
            then {{ milliseconds_between('opened_at', 'resolved_at') }}
    end as restore_ms,
    case
        when incident_state in ('Resolved', 'Closed') and resolved_at is not null
            then {{ milliseconds_between('opened_at', 'resolved_at') }} / 3600000.0
    end as restore_hours,
    made_sla,
    reopen_count > 0 as was_reopened,
    (
        priority in {{ sql_string_list(var('itsm_failure_priorities')) }}
        or coalesce(category in {{ sql_string_list(var('itsm_failure_categories')) }}, false)
    ) as is_system_failure,
    _source_file
from ranked
where update_rank = 1
