-- Every delivered version of every KCS import declaration (one row per row of a delivered file),
-- earlier versions included: a correction can move a declaration to another Date, and
-- cs_inspection_performance recomputes the months of its earlier versions too.
-- stg_kcs__import_declarations keeps the latest version only.
select
    {{ adapter.quote('Declaration ID') }} as declaration_id,
    {{ adapter.quote('Date') }} as declaration_date,
    _source_file,
    _source_line,
    _batch_id,
    _loaded_at
from {{ source('kcs', 'kcs_import_declarations') }}
