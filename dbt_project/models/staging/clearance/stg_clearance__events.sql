-- One row per milestone event: the version from the most recently loaded file wins.
with ranked as (
    select
        *,
        row_number() over (
            partition by declaration_id, event_id
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from {{ source('clearance', 'clearance_events') }}
)

select
    event_id,
    declaration_id,
    lower(event_type) as milestone,
    event_time,
    lower(nullif(event_detail, '')) as event_detail,
    _source_file,
    _batch_id,
    _loaded_at
from ranked
where version_rank = 1
