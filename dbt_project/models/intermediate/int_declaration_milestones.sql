{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='replace_since_first_load',
        loaded_at_column='_last_loaded_at',
        unique_key='declaration_id',
        on_schema_change='fail'
    )
}}
-- One row per declaration: its milestone timestamps, C/S channel, segment durations and the
-- outlier flag. Incremental: only declarations with rows loaded since the last build are
-- recomputed (from all their rows), so a night costs the size of the new files. Their old rows
-- are read, and their old row replaced, among the rows loaded since the declarations' first load
-- (strategy replace_since_first_load, macros/clearance_staging.sql).
-- depends_on: {{ ref('stg_clearance__declaration_keys') }}
--
-- Rules (documented in the YAML beside this file):
-- * a milestone logged more than once counts at its first time, except inspection_end,
--   release and gate_out, which count at their last;
-- * the channel is the detail of the latest cs_channel event; none logged -> 'unknown';
-- * reference_date (which month/year a declaration belongs to) = arrival date, or the
--   lodgement date when arrival is missing;
-- * negative durations (pre-arrival lodgement) are kept as they are.

{% if is_incremental() %}
{%- set loaded_through = watermark_literal(this, '_last_loaded_at') %}
with changed as (
    select declaration_id from {{ ref('stg_clearance__events') }}
    where _loaded_at > {{ loaded_through }}
    union
    select declaration_id from {{ ref('stg_clearance__declarations') }}
    where _loaded_at > {{ loaded_through }}
),

-- No row of a declaration was loaded before its first load (stg_clearance__declaration_keys),
-- so the rows of the changed declarations are among those loaded since the earliest of theirs:
-- for a night of new declarations, the night's rows only.
first_loaded as (
    {{ clearance_first_load_of('changed') }}
),

-- All rows of the changed declarations, old ones included.
events as (
    select * from {{ ref('stg_clearance__events') }}
    where declaration_id in (select declaration_id from changed)
        and _loaded_at >= (select * from first_loaded)
),

declarations as (
    select * from {{ ref('stg_clearance__declarations') }}
    where declaration_id in (select declaration_id from changed)
        and _loaded_at >= (select * from first_loaded)
),
{% else %}
with events as (
    select * from {{ ref('stg_clearance__events') }}
),

declarations as (
    select * from {{ ref('stg_clearance__declarations') }}
),
{% endif %}

milestones as (
    select
        declaration_id,
        min(event_time) filter (where milestone = 'arrival') as arrival_at,
        min(event_time) filter (where milestone = 'lodgement') as lodgement_at,
        min(event_time) filter (where milestone = 'acceptance') as acceptance_at,
        min(event_time) filter (where milestone = 'cs_channel') as cs_channel_at,
        max_by(event_detail, event_time) filter (where milestone = 'cs_channel') as channel,
        min(event_time) filter (where milestone = 'inspection_start') as inspection_start_at,
        max(event_time) filter (where milestone = 'inspection_end') as inspection_end_at,
        max_by(event_detail, event_time) filter (where milestone = 'inspection_end') as inspection_result,
        min(event_time) filter (where milestone = 'oga_permit') as oga_permit_at,
        min(event_time) filter (where milestone = 'payment') as payment_at,
        max(event_time) filter (where milestone = 'release') as release_at,
        max(event_time) filter (where milestone = 'gate_out') as gate_out_at,
        max(event_time) as last_event_at,
        count(*) as event_count,
        max(_loaded_at) as events_loaded_at
    from events
    group by declaration_id
),

joined as (
    select
        coalesce(d.declaration_id, m.declaration_id) as declaration_id,
        coalesce(d.declaration_type, 'unknown') as declaration_type,
        coalesce(d.transport_mode, 'unknown') as transport_mode,
        coalesce(d.customs_office, 'unknown') as customs_office,
        d.is_aeo,
        d.is_oga_required,
        d.is_pre_arrival,
        d.declared_value_krw,
        coalesce(m.channel, 'unknown') as channel,
        m.arrival_at,
        m.lodgement_at,
        m.acceptance_at,
        m.cs_channel_at,
        m.inspection_start_at,
        m.inspection_end_at,
        m.inspection_result,
        m.oga_permit_at,
        m.payment_at,
        m.release_at,
        m.gate_out_at,
        m.last_event_at,
        coalesce(m.event_count, 0) as event_count,
        d.declaration_id is not null as has_declaration_row,
        greatest(d._loaded_at, m.events_loaded_at) as _last_loaded_at
    from declarations as d
    full outer join milestones as m on d.declaration_id = m.declaration_id
)

select
    declaration_id,
    declaration_type,
    transport_mode,
    customs_office,
    channel,
    is_aeo,
    is_oga_required,
    is_pre_arrival,
    declared_value_krw,
    arrival_at,
    lodgement_at,
    acceptance_at,
    cs_channel_at,
    inspection_start_at,
    inspection_end_at,
    inspection_result,
    oga_permit_at,
    payment_at,
    release_at,
    gate_out_at,
    last_event_at,
    cast(coalesce(arrival_at, lodgement_at) as date) as reference_date,
    {{ hours_between('arrival_at', 'release_at') }} as release_hours,
    {{ hours_between('arrival_at', 'lodgement_at') }} as arrival_to_lodgement_hours,
    {{ hours_between('lodgement_at', 'acceptance_at') }} as lodgement_to_acceptance_hours,
    {{ hours_between('acceptance_at', 'release_at') }} as acceptance_to_release_hours,
    {{ hours_between('release_at', 'gate_out_at') }} as release_to_gate_out_hours,
    {{ hours_between('inspection_start_at', 'inspection_end_at') }} as inspection_hours,
    release_at is not null as is_released,
    coalesce({{ hours_between('arrival_at', 'release_at') }} > {{ var('trs_outlier_hours') }}, false) as is_outlier,
    event_count,
    has_declaration_row,
    _last_loaded_at,
    -- The data's load time, not the build's start: the same data gives byte-identical marts.
    _last_loaded_at as _refreshed_at
from joined
{{ in_date_order_on_full_build('reference_date', is_incremental()) }}
