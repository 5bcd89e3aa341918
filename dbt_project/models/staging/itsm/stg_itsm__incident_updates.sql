-- One row per update of an incident, per ITSM instance. The same update delivered again (a later
-- export overlapping an earlier one) counts once: the most recently loaded copy wins.
with delivered as (
    select
        *,
        regexp_extract(_source_file, '^itsm_incidents_([a-z0-9]+)_', 1) as source_system
    from {{ source('itsm', 'itsm_incidents') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by source_system, number, sys_mod_count, sys_updated_at
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as copy_rank
    from delivered
)

select
    source_system,
    number as incident_number,
    sys_mod_count,
    sys_updated_at,
    incident_state,
    active as is_active,
    made_sla,
    reopen_count,
    reassignment_count,
    opened_at,
    resolved_at,
    closed_at,
    priority,
    -- '1 - Critical' -> 1
    try_cast(split_part(priority, ' - ', 1) as integer) as priority_code,
    impact,
    urgency,
    category,
    subcategory,
    assignment_group,
    contact_type,
    closed_code,
    _source_file,
    _source_line,
    _batch_id,
    _loaded_at
from ranked
where copy_rank = 1
