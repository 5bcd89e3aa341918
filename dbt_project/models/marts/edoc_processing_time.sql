-- Online e-document processing time per month and document type (DOMAIN.md section 4):
-- processing time = processed_at - received_at, seconds, over the documents received in the
-- month that were processed (pending ones are counted in `documents` only). The mean is banded
-- against the type's levels of the contract year (seed sla_catalogue, EDOC_TIME_<TYPE>).
with documents as (
    select *, cast(date_trunc('month', received_at) as date) as period_start
    from {{ ref('stg_edoc__documents') }}
),

stats as (
    select
        period_start,
        document_type,
        count(*) as documents,
        count(processing_seconds) as processed,
        -- Exact: milliseconds summed as integers, divided once (macros/exact.sql).
        {{ exact_mean('processing_ms', 1000) }} as mean_seconds,
        {{ exact_quantile('processing_seconds', 0.5) }} as median_seconds,
        {{ exact_quantile('processing_seconds', 0.95) }} as p95_seconds,
        max(_loaded_at) as source_loaded_at
    from documents
    group by period_start, document_type
)

select
    s.period_start,
    s.document_type,
    s.documents,
    s.processed,
    s.mean_seconds,
    s.median_seconds,
    s.p95_seconds,
    c.indicator_code,
    c.goal_level,
    c.basic_level,
    c.minimum_level,
    {{ sla_attainment('s.mean_seconds', 'c.direction', 'c.goal_level', 'c.basic_level', 'c.minimum_level') }}
        as attainment
from stats as s
left join {{ ref('sla_catalogue') }} as c
    on c.indicator_code = 'EDOC_TIME_' || upper(s.document_type)
        and s.period_start between c.contract_year_start and c.contract_year_end
