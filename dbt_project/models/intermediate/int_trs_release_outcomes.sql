{{ config(materialized='view') }}
-- One row per declaration that has a reference date: how its release stands at the data
-- horizon (the latest loaded event time), and its national target.
-- A view: the horizon moves with every load, so the censoring is decided when the marts read it.
-- Outcomes (docs/trs.md, "Cargo still waiting"):
-- * released: arrival and release logged; a Kaplan-Meier event at its release time;
-- * still_waiting: arrival logged, no release, younger than var trs_still_waiting_limit_hours
--   at the horizon; censored at its age;
-- * release_not_logged: arrival logged, no release, older than that limit; left out of the
--   statistics and counted apart;
-- * no_arrival: no arrival logged, so no release time.

with horizon as (
    select max(last_event_at) as data_horizon_at
    from {{ ref('int_declaration_milestones') }}
),

declarations as (
    select
        d.*,
        h.data_horizon_at,
        {{ whole_seconds('d.release_hours') }} as release_seconds,
        case
            when d.arrival_at is not null and d.release_at is null
                then {{ whole_seconds(hours_between('d.arrival_at', 'h.data_horizon_at')) }}
        end as unreleased_age_seconds
    from {{ ref('int_declaration_milestones') }} as d
    cross join horizon as h
    where d.reference_date is not null
),

classified as (
    select
        *,
        case
            when release_seconds is not null then 'released'
            when arrival_at is null then 'no_arrival'
            when unreleased_age_seconds < {{ var('trs_still_waiting_limit_hours') }} * 3600 then 'still_waiting'
            else 'release_not_logged'
        end as outcome
    from declarations
)

select
    c.declaration_id,
    c.declaration_type,
    c.transport_mode,
    c.channel,
    c.customs_office,
    c.is_aeo,
    c.is_pre_arrival,
    c.is_oga_required,
    c.reference_date,
    c.outcome,
    c.release_seconds,
    case when c.outcome = 'still_waiting' then c.unreleased_age_seconds end as waiting_age_seconds,
    case c.outcome
        when 'released' then c.release_seconds
        when 'still_waiting' then c.unreleased_age_seconds
    end as km_seconds,
    c.outcome = 'released' as is_km_event,
    c.is_outlier,
    t.target_hours,
    case when c.outcome = 'released' and t.target_hours is not null
            then c.release_seconds <= t.target_hours * 3600
    end as is_within_target,
    c.data_horizon_at,
    c._refreshed_at
from classified as c
-- The open end as a far date, not an OR: with an OR in its condition DuckDB joins every
-- declaration to every target in a nested loop.
left join {{ ref('trs_targets') }} as t
    on c.transport_mode = t.transport_mode
        and c.declaration_type = t.declaration_type
        and c.reference_date >= t.valid_from
        and c.reference_date <= coalesce(t.valid_to, cast('9999-12-31' as date))
