-- One row per ledger line (year, stage, cost type, item): the version from the most recently
-- loaded workbook wins, so a corrected ledger replaces the lines it restates.
with ranked as (
    select
        *,
        row_number() over (
            partition by
                {{ adapter.quote('Year') }}, {{ adapter.quote('Stage') }},
                {{ adapter.quote('Cost type') }}, {{ adapter.quote('Item') }}
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from {{ source('ledger', 'sw_cost_ledger') }}
)

select
    {{ adapter.quote('Year') }} as year,
    {{ adapter.quote('Stage') }} as stage,
    lower({{ adapter.quote('Cost type') }}) as cost_type,
    {{ adapter.quote('Item') }} as item,
    {{ adapter.quote('Amount (KRW)') }} as amount_krw,
    _source_file,
    _batch_id,
    _loaded_at
from ranked
where version_rank = 1
