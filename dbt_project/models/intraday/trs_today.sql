{{ config(materialized='table') }}
-- Today's release times so far, and the cargo still waiting, as of one moment of the day
-- (macros/intraday.sql): rebuilt every hour by the intraday run (dags/swpm_intraday.py), not by
-- the nightly build, and published on its own (serving/trs_today.duckdb).
-- Milestones logged after the moment count as not happened yet.
-- GROUP BY GROUPING SETS below: DuckDB runs it, the linter's duckdb dialect cannot parse it.
-- noqa: disable=PRS

with as_of as (
    select
        {{ trs_today_as_of() }} as as_of_at,
        cast({{ trs_today_as_of() }} as date) as report_date
),

known as (
    select
        d.transport_mode,
        d.customs_office,
        d._refreshed_at,
        -- The channel as known at the moment: none assigned yet is 'pending'.
        case when d.cs_channel_at <= a.as_of_at then d.channel else 'pending' end as channel,
        coalesce(d.release_at >= a.report_date and d.release_at <= a.as_of_at, false) as is_released_today,
        coalesce(
            d.arrival_at <= a.as_of_at
            and d.arrival_at > a.as_of_at - to_days({{ var('trs_today_waiting_days') }})
            and (d.release_at is null or d.release_at > a.as_of_at),
            false
        ) as is_waiting,
        {{ whole_seconds('d.release_hours') }} as release_seconds,
        {{ whole_seconds(hours_between('d.arrival_at', 'a.as_of_at')) }} as waiting_seconds
    from {{ ref('int_declaration_milestones') }} as d
    cross join as_of as a
    where
        (d.release_at >= a.report_date and d.release_at <= a.as_of_at)
        or (
            d.arrival_at <= a.as_of_at
            and d.arrival_at > a.as_of_at - to_days({{ var('trs_today_waiting_days') }})
            and (d.release_at is null or d.release_at > a.as_of_at)
        )
),

grouped as (
    select
        {{ rollup_dim('transport_mode') }} as transport_mode,
        {{ rollup_dim('channel') }} as channel,
        {{ rollup_dim('customs_office') }} as customs_office,
        case
            when grouping(transport_mode) = 1 then 'all'
            when grouping(channel) = 0 and grouping(customs_office) = 0 then 'mode+channel+office'
            when grouping(channel) = 0 then 'mode+channel'
            when grouping(customs_office) = 0 then 'mode+office'
            else 'mode'
        end as grouping_set,
        count(*) filter (where is_released_today) as released,
        count(release_seconds) filter (where is_released_today) as released_timed,
        {{ exact_quantile('release_seconds', [0.5, 0.9]) }} filter (where is_released_today) as release_quantiles,
        count(*) filter (where is_waiting) as waiting,
        {{ exact_quantile('waiting_seconds', 0.5) }} filter (where is_waiting) as waiting_median_seconds,
        max(waiting_seconds) filter (where is_waiting) as waiting_max_seconds,
        max(_refreshed_at) as source_refreshed_at
    from known
    group by grouping sets (
        (transport_mode, channel, customs_office),
        (transport_mode, channel),
        (transport_mode, customs_office),
        (transport_mode),
        ()
    )
)

-- An empty day still has its 'all' row (nothing released, nothing waiting).
select
    a.report_date,
    a.as_of_at,
    transport_mode,
    channel,
    customs_office,
    grouping_set,
    released,
    released_timed,
    round({{ list_item('release_quantiles', 1) }} / 3600.0, 4) as median_release_hours,
    round({{ list_item('release_quantiles', 2) }} / 3600.0, 4) as p90_release_hours,
    waiting,
    {{ round_double(as_double('waiting_median_seconds') ~ ' / 3600.0', 4) }} as waiting_median_age_hours,
    {{ round_double(as_double('waiting_max_seconds') ~ ' / 3600.0', 4) }} as waiting_max_age_hours,
    source_refreshed_at
from grouped
cross join as_of as a
