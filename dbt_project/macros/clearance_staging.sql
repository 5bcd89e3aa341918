{# The staging SQL of the clearance logs (incremental tables). The latest version of every row
   wins (the row from the most recently loaded file: a corrected re-delivery replaces the
   earlier one). On an incremental build only the raw rows loaded since the table's newest row
   are read: each is newer than every version already staged, so the latest among them is the
   latest of its key, and delete+insert on the model's key (unique_key) replaces the staged
   versions of exactly those keys. The raw history is not read again: finding a night's keys in
   it was a scan of its whole key column, which grows with the years held.
   Nearly every key is delivered once, so only keys delivered more than once are ranked: finding
   them groups a 64-bit hash of the key, far cheaper at a year (113 million events) than ranking
   every row with a window. A hash collision only sends rows to the ranking, which compares the
   keys themselves. #}
{% macro _clearance_latest(relation, key) -%}
    {#- The delivered rows are read where they are used, not through a CTE: DuckDB materializes a
        CTE read more than once, which at a year copied every raw event (113 million rows, every
        column) past the memory limit to disk first: 96 s, against 20 s reading them three times. -#}
    {%- set since = watermark_literal(this, '_loaded_at') if is_incremental() -%}
    {%- set delivered -%}
        (
            select *, {{ key_hash(key) }} as _key_hash
            from {{ relation }}
            {%- if since %}
            where _loaded_at > {{ since }}
            {%- endif %}
        )
    {%- endset -%}
    with delivered_again as (
        select _key_hash from {{ delivered }} as delivered group by _key_hash having count(*) > 1
    )

    select {{ star_but('delivered.*', ['_key_hash']) }}
    from {{ delivered }} as delivered
    {{ anti_join() }} delivered_again on delivered._key_hash = delivered_again._key_hash
    union all
    select {{ star_but('*', ['_key_hash', 'version_rank']) }}
    from (
        select
            delivered.*,
            row_number() over (
                partition by {{ key }}
                order by _loaded_at desc, _source_file desc, _source_line desc
            ) as version_rank
        from {{ delivered }} as delivered
        {{ semi_join() }} delivered_again on delivered._key_hash = delivered_again._key_hash
    ) as ranked
    where version_rank = 1
{%- endmacro %}

{% macro stg_clearance_events_sql() -%}
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
    {{ _clearance_latest(source('clearance', 'clearance_events'), 'declaration_id, event_id') }}
) as latest
{%- endmacro %}

{% macro stg_clearance_declarations_sql() -%}
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
    {{ _clearance_latest(source('clearance', 'clearance_declarations'), 'declaration_id') }}
) as latest
{%- endmacro %}

{# The earliest first load (stg_clearance__declaration_keys) of the declarations in `relation`: no
   row of those declarations was loaded before it. A declaration the keys do not hold gives the
   earliest time (every row is read); a key two numbers share only makes it earlier. #}
{% macro clearance_first_load_of(relation) -%}
    select min(coalesce(known.first_loaded_at, {{ earliest_timestamp() }}))
    from (select distinct {{ key_hash('declaration_id') }} as declaration_key from {{ relation }}) as incoming
    left join {{ ref('stg_clearance__declaration_keys') }} as known
        on incoming.declaration_key = known.declaration_key
{%- endmacro %}

{# Incremental strategy `replace_since_first_load`: delete+insert on the model's unique_key, whose
   delete reads only the target rows loaded (config `loaded_at_column`) at or after the first
   load of the incoming rows' declarations. Every staged row of a declaration was loaded since
   then, so the same rows are replaced as by a plain delete+insert; a night of new declarations
   reads none of the history: DuckDB runs the scalar subquery first and skips the row groups by
   their min/max. The clearance staging tables, int_declaration_milestones and
   int_trs_party_seconds use it. (A plain delete+insert scanned the key of every row held: at
   three years of history, 34 million staged events at a tenth of the volume.) #}
{% macro get_incremental_replace_since_first_load_sql(arg_dict) -%}
    {%- set unique_key = arg_dict['unique_key'] -%}
    {#- A list: dbt-duckdb names the target DBT_INCREMENTAL_TARGET only in its composite-key delete. -#}
    {%- set unique_key = [unique_key] if unique_key is string else unique_key -%}
    {%- set loaded_at = config.require('loaded_at_column') -%}
    {%- set since -%}
        DBT_INCREMENTAL_TARGET.{{ loaded_at }} >= ({{ clearance_first_load_of(arg_dict['temp_relation']) }})
    {%- endset -%}
    {{ get_delete_insert_merge_sql(
        arg_dict['target_relation'], arg_dict['temp_relation'], unique_key, arg_dict['dest_columns'],
        (arg_dict['incremental_predicates'] or []) + [since]
    ) }}
{%- endmacro %}
