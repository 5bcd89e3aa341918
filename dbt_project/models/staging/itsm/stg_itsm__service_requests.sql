-- One row per service request and ITSM instance: its state in the latest export that lists it
-- (export date from the file name, then load time; a request open at one year's export is
-- listed again, completed, in a later one).
with delivered as (
    select
        *,
        regexp_extract(_source_file, '^itsm_service_requests_([a-z0-9]+)_', 1) as source_system,
        {{ date_from_yyyymmdd("regexp_extract(_source_file, '_([0-9]{8})[.]', 1)") }} as export_date
    from {{ source('itsm', 'itsm_service_requests') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by source_system, number
            order by export_date desc, _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from delivered
)

select
    source_system,
    number as request_number,
    opened_at,
    due_date,
    completed_at,
    cast(completed_at as date) as completed_date,
    -- '3 - Closed Complete' -> 'closed_complete'
    replace(lower(split_part(state, ' - ', 2)), ' ', '_') as state,
    state = '4 - Closed Cancelled' as is_cancelled,
    category,
    export_date,
    _source_file,
    _batch_id,
    _loaded_at
from ranked
where version_rank = 1
