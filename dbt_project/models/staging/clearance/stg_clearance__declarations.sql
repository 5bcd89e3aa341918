-- One row per declaration: the version from the most recently loaded file wins (a corrected
-- re-delivery replaces the earlier one). Codes become the lower-case labels marts use.
with ranked as (
    select
        *,
        row_number() over (
            partition by declaration_id
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from {{ source('clearance', 'clearance_declarations') }}
)

select
    declaration_id,
    lower(declaration_type) as declaration_type,
    lower(transport_mode) as transport_mode,
    customs_office,
    declarant_id,
    aeo_flag = 'Y' as is_aeo,
    oga_required = 'Y' as is_oga_required,
    pre_arrival_flag = 'Y' as is_pre_arrival,
    declared_value_krw,
    _source_file,
    _batch_id,
    _loaded_at
from ranked
where version_rank = 1
