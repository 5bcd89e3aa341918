-- One row per e-document: the most recently loaded version wins.
with ranked as (
    select
        *,
        row_number() over (
            partition by document_id
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from {{ source('edoc', 'edoc_processing_log') }}
)

select
    document_id,
    lower(document_type) as document_type,
    received_at,
    processed_at,
    lower(status) as status,
    {{ milliseconds_between('received_at', 'processed_at') }} as processing_ms,
    {{ as_double(milliseconds_between('received_at', 'processed_at')) }} / 1000.0 as processing_seconds,
    _source_file,
    _batch_id,
    _loaded_at
from ranked
where version_rank = 1
