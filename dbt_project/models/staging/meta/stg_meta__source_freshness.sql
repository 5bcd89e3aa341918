-- Every source freshness check (meta.source_freshness, written by the freshness step), as
-- recorded.
select
    checked_at,
    batch_id,
    source,
    status,
    max_loaded_at,
    age_hours,
    warn_after
from {{ source('meta', 'source_freshness') }}
