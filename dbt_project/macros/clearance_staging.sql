{# The staging SQL of the clearance logs, shared by the staging views and by the incremental
   branch of int_declaration_milestones. The latest version of every row wins (the row from the
   most recently loaded file: a corrected re-delivery replaces the earlier one).
   `only_declarations` (a subquery of declaration ids) filters the raw rows BEFORE ranking:
   DuckDB does not push a semi-join through a window, so a nightly model that filtered the
   staging view instead would rank the whole history every night. #}
{% macro _clearance_ranked(relation, partition, only_declarations) -%}
    select
        *,
        row_number() over (
            partition by {{ partition }}
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from {{ relation }}
    {%- if only_declarations %}
    where declaration_id in ({{ only_declarations }})
    {%- endif %}
{%- endmacro %}

{% macro stg_clearance_events_sql(only_declarations=none) -%}
select
    event_id,
    declaration_id,
    lower(event_type) as milestone,
    event_time,
    lower(nullif(event_detail, '')) as event_detail,
    _source_file,
    _batch_id,
    _loaded_at
from (
    {{ _clearance_ranked(source('clearance', 'clearance_events'), 'declaration_id, event_id', only_declarations) }}
) as ranked
where version_rank = 1
{%- endmacro %}

{% macro stg_clearance_declarations_sql(only_declarations=none) -%}
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
from (
    {{ _clearance_ranked(source('clearance', 'clearance_declarations'), 'declaration_id', only_declarations) }}
) as ranked
where version_rank = 1
{%- endmacro %}
