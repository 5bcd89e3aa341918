{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='fail'
    )
}}
-- One row per declaration number ever delivered in either clearance log: a 64-bit key of it and
-- when its first row was loaded. No row of a declaration is loaded before that time, so a night
-- replaces and looks up the staged rows of its declarations among the rows loaded since the
-- earliest first load among them (macros/clearance_staging.sql): for a night of new declarations,
-- none of the history. A night reads the rows loaded since the last successful build (every row
-- before it was read by that build) and appends the declarations it has not seen: it looks their
-- numbers up by their keys (a scan of 64-bit integers, not of the numbers). Reading more rows
-- than that only costs time: a declaration already held is never added again.
{%- set since = last_build_loaded_through() %}
with delivered as (
    select declaration_id, _loaded_at from {{ source('clearance', 'clearance_events') }}
    {%- if is_incremental() %}
    where _loaded_at > {{ since }}
    {%- endif %}
    union all
    select declaration_id, _loaded_at from {{ source('clearance', 'clearance_declarations') }}
    {%- if is_incremental() %}
    where _loaded_at > {{ since }}
    {%- endif %}
),

first_loads as (
    select
        {{ key_hash('declaration_id') }} as declaration_key,
        declaration_id,
        min(_loaded_at) as first_loaded_at
    from delivered
    group by declaration_id
)

{% if is_incremental() -%}
, known as (
    select declaration_key, declaration_id from {{ this }}
    where declaration_key in (select declaration_key from first_loads)
)

select first_loads.*
from first_loads
{{ anti_join() }} known
    on first_loads.declaration_key = known.declaration_key and first_loads.declaration_id = known.declaration_id
{%- else -%}
select * from first_loads
{%- endif %}
