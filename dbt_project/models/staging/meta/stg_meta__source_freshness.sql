-- The sources as the latest `dbt source freshness` check found them, one row per source table,
-- with the window in hours (meta keeps dbt's wording, e.g. '2 days').
with latest as (
    select *
    from {{ source('meta', 'source_freshness') }}
    where checked_at = (select max(checked_at) from {{ source('meta', 'source_freshness') }})
)

select
    source,
    status,
    status in ('warn', 'error') as is_stale,
    max_loaded_at,
    age_hours,
    warn_after,
    cast(split_part(warn_after, ' ', 1) as double)
    * case
        when split_part(warn_after, ' ', 2) like 'minute%' then 1.0 / 60
        when split_part(warn_after, ' ', 2) like 'hour%' then 1
        when split_part(warn_after, ' ', 2) like 'day%' then 24
    end as warn_after_hours,
    checked_at,
    batch_id
from latest
