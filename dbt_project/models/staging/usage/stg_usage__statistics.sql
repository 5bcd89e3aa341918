-- One row per year and agency: the version from the most recently loaded file wins.
with ranked as (
    select
        *,
        row_number() over (
            partition by year, agency_code
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from {{ source('usage', 'sw_usage_statistics') }}
)

select
    year,
    agency_code,
    agency_name,
    sw_applications,
    all_applications,
    _source_file,
    _batch_id,
    _loaded_at
from ranked
where version_rank = 1
