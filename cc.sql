
-- Time Release Study cohorts (docs/trs.md, "Cohorts"): per period, declaration type and mode
-- (and all modes), declarations with every facilitation feature against those with none, and
-- each feature on its own (with it against without it, whatever the others), in the manner of
-- India's NTRS. The features: AEO declarant, pre-arrival lodgement, green channel, no OGA permit
-- needed. A declaration with a feature unknown (no declaration header, no channel logged)
-- counts in no comparison that needs it. Medians from the declarations themselves; a side with
-- no declarations has NULL statistics, never zero. Incremental like trs_release_time.
-- noqa: disable=PRS
-- The incremental filter reads the milestones (trs_changed_months):
-- depends_on: "swpm"."intermediate"."int_declaration_milestones"

-- Only the columns used: in_periods is read three times, so DuckDB materializes it.
with declarations as (
    select
        is_aeo as has_aeo,
        is_pre_arrival as has_pre_arrival,
        case when channel = 'unknown' then null else channel = 'green' end as has_green_channel,
        not is_oga_required as has_no_oga_permit,
        reference_date,
        declaration_type,
        transport_mode,
        km_seconds,
        is_km_event,
        _refreshed_at
    from "swpm"."intermediate"."int_trs_release_outcomes"
),

in_periods as  (
    
    select
        p.period_type,
        cast(case
            when p.period_type = 'month' then date_trunc('month', r.reference_date)
            else date_trunc('year', r.reference_date)
        end as date) as period_start,
        r.*
    from declarations as r
    cross join (select 'month' as period_type union all select 'year' as period_type) as p
    where r.reference_date >= cast('2019-01-01' as date)
        and date_trunc('year', r.reference_date) in (cast('2019-01-01' as date), cast('2020-01-01' as date))
        and (p.period_type = 'year' or r.reference_date >= cast('2019-12-01' as date)
        and date_trunc('month', r.reference_date) in (cast('2019-12-01' as date), cast('2020-01-01' as date)))
    
),

-- Declarations per period, type, mode, feature combination and hour (per second in the hours of
-- a period holding a censored declaration; macros/trs_km.sql, trs_km_row_hours): the
-- comparisons below regroup these few rows instead of the declarations.
cell_hours as (
    select
        r.period_type,
        r.period_start,
        r.declaration_type,
        r.transport_mode,
        r.has_aeo,
        r.has_pre_arrival,
        r.has_green_channel,
        r.has_no_oga_permit,
        case when h.km_hour is not null then r.km_seconds else r.km_hour * 3600 end as km_seconds,
        count(*) as declarations,
        sum(case when r.is_km_event then 1 else 0 end) as events,
        sum(case when r.km_seconds is not null and not r.is_km_event then 1 else 0 end) as censored,
        max(r._refreshed_at) as source_refreshed_at
    from (
        select *, cast(ceil(km_seconds / 3600.0) as bigint) as km_hour
        from in_periods
    ) as r
    left join (
        select distinct period_type, period_start, cast(ceil(km_seconds / 3600.0) as bigint) as km_hour
        from in_periods
        where km_seconds is not null and not coalesce(is_km_event, false)
    ) as h
        on r.period_type = h.period_type and r.period_start = h.period_start and r.km_hour = h.km_hour
    group by
        r.period_type,
        r.period_start,
        r.declaration_type,
        r.transport_mode,
        r.has_aeo,
        r.has_pre_arrival,
        r.has_green_channel,
        r.has_no_oga_permit,
        case when h.km_hour is not null then r.km_seconds else r.km_hour * 3600 end
),

-- The comparisons, each a cohort against a baseline.
comparisons as (
    select 'all_features' as comparison
    union all
    select 'aeo'
    union all
    select 'pre_arrival'
    union all
    select 'green_channel'
    union all
    select 'no_oga_permit'
),

-- The Kaplan-Meier and released-only medians per side are read in two passes (macros/trs_km.sql,
-- trs_km_row_hours): the steps per hour find the hour holding each median, then only those hours
-- are stepped through per second, counted again from the declarations.
sides_hours as  (
    select
        c.period_type,
        c.period_start,
        c.declaration_type,
        c.transport_mode,
        c.km_seconds,
        c.declarations,
        c.events,
        c.censored,
        c.source_refreshed_at,
        k.comparison,
        case
            when k.comparison = 'all_features' and c.has_aeo and c.has_pre_arrival and c.has_green_channel and c.has_no_oga_permit then 'cohort'
            when k.comparison = 'all_features' and not c.has_aeo and not c.has_pre_arrival and not c.has_green_channel and not c.has_no_oga_permit
                then 'baseline'
            when k.comparison = 'aeo' and c.has_aeo then 'cohort'
            when k.comparison = 'aeo' and not c.has_aeo then 'baseline'
            when k.comparison = 'pre_arrival' and c.has_pre_arrival then 'cohort'
            when k.comparison = 'pre_arrival' and not c.has_pre_arrival then 'baseline'
            when k.comparison = 'green_channel' and c.has_green_channel then 'cohort'
            when k.comparison = 'green_channel' and not c.has_green_channel then 'baseline'
            when k.comparison = 'no_oga_permit' and c.has_no_oga_permit then 'cohort'
            when k.comparison = 'no_oga_permit' and not c.has_no_oga_permit then 'baseline'
        end as side
    from cell_hours as c
    cross join comparisons as k
),

side_hours as (
    select
        period_type,
        period_start,
        case when grouping(declaration_type) = 1 then 'ALL' else declaration_type end as declaration_type,
        case when grouping(transport_mode) = 1 then 'ALL' else transport_mode end as transport_mode,
        comparison,
        side,
        km_seconds,
        sum(declarations) as declarations,
        sum(events) as events,
        sum(censored) as censored,
        max(source_refreshed_at) as source_refreshed_at
    from sides_hours
    where side is not null
    group by grouping sets (
        (period_type, period_start, declaration_type, comparison, side, km_seconds),
        (period_type, period_start, declaration_type, transport_mode, comparison, side, km_seconds)
    )
),

side_totals as (
    select
        period_type, period_start, declaration_type, transport_mode, comparison, side,
        sum(declarations) as declarations,
        sum(events) as released,
        sum(censored) as still_waiting
    from side_hours
    group by period_type, period_start, declaration_type, transport_mode, comparison, side
),

side_hour_times as (
    select * from side_hours where km_seconds is not null
),

hour_steps as (
    select
        *,
        sum(events) over (
            partition by period_type, period_start, declaration_type, transport_mode, comparison, side
            order by km_seconds rows between unbounded preceding and current row
        ) as released_through,
        sum(events) over (partition by period_type, period_start, declaration_type, transport_mode, comparison, side) as released_total
    from (select
        *,
        round(
            cast(at_risk - events as double) / km_base * exp(coalesce(sum(censoring_log) over (
                partition by period_type, period_start, declaration_type, transport_mode, comparison, side order by km_seconds rows between unbounded preceding and 1 preceding
            ), 0)),
            12
        ) as survival
    from (
        select
            *,
            case
                when censored > 0 and at_risk - events > censored
                    then ln(at_risk - events) - ln(at_risk - events - censored)
                else 0
            end as censoring_log
        from (
            select
                *,
                sum(events + censored) over (partition by period_type, period_start, declaration_type, transport_mode, comparison, side) as km_base,
                sum(events + censored) over (partition by period_type, period_start, declaration_type, transport_mode, comparison, side) - coalesce(sum(events + censored) over (
                    partition by period_type, period_start, declaration_type, transport_mode, comparison, side order by km_seconds rows between unbounded preceding and 1 preceding
                ), 0) as at_risk
            from side_hour_times
        ) as counted
    ) as factored) as steps
),

median_hours as (
    unpivot (
        select period_type, period_start, declaration_type, transport_mode, comparison, side, reached_1, reached_2, reached_3
        from (
        select
            period_type, period_start, declaration_type, transport_mode, comparison, side,
            cast(ceil(min(case when events > 0 and survival <= 0.5 then km_seconds end) / 3600.0) as bigint) as reached_1,
            cast(ceil(min(case when round(cast(released_through as double) / nullif(released_total, 0), 9) >= 0.5 then km_seconds end) / 3600.0) as bigint) as reached_2,
            cast(ceil(min(case when round(cast(released_through as double) / nullif(released_total, 0), 9) > 0.5 then km_seconds end) / 3600.0) as bigint) as reached_3
        from hour_steps
        group by period_type, period_start, declaration_type, transport_mode, comparison, side
    )
    )
    on reached_1, reached_2, reached_3
    into name reached_condition value km_hour
),

-- The declarations in the hours where some side's median lies, per second.
cells_in_median_hours as (
    select
        r.period_type,
        r.period_start,
        r.declaration_type,
        r.transport_mode,
        r.has_aeo,
        r.has_pre_arrival,
        r.has_green_channel,
        r.has_no_oga_permit,
        r.km_seconds,
        count(*) as declarations,
        sum(case when r.is_km_event then 1 else 0 end) as events,
        sum(case when r.km_seconds is not null and not r.is_km_event then 1 else 0 end) as censored,
        max(r._refreshed_at) as source_refreshed_at
    from in_periods as r
    semi join (select distinct period_type, period_start, km_hour from median_hours) as h
        on r.period_type = h.period_type and r.period_start = h.period_start
            and cast(ceil(r.km_seconds / 3600.0) as bigint) = h.km_hour
    where r.km_seconds is not null
    group by
        r.period_type,
        r.period_start,
        r.declaration_type,
        r.transport_mode,
        r.has_aeo,
        r.has_pre_arrival,
        r.has_green_channel,
        r.has_no_oga_permit,
        r.km_seconds
),
sides_seconds as not materialized (
    select
        c.period_type,
        c.period_start,
        c.declaration_type,
        c.transport_mode,
        c.km_seconds,
        c.declarations,
        c.events,
        c.censored,
        c.source_refreshed_at,
        k.comparison,
        case
            when k.comparison = 'all_features' and c.has_aeo and c.has_pre_arrival and c.has_green_channel and c.has_no_oga_permit then 'cohort'
            when k.comparison = 'all_features' and not c.has_aeo and not c.has_pre_arrival and not c.has_green_channel and not c.has_no_oga_permit
                then 'baseline'
            when k.comparison = 'aeo' and c.has_aeo then 'cohort'
            when k.comparison = 'aeo' and not c.has_aeo then 'baseline'
            when k.comparison = 'pre_arrival' and c.has_pre_arrival then 'cohort'
            when k.comparison = 'pre_arrival' and not c.has_pre_arrival then 'baseline'
            when k.comparison = 'green_channel' and c.has_green_channel then 'cohort'
            when k.comparison = 'green_channel' and not c.has_green_channel then 'baseline'
            when k.comparison = 'no_oga_permit' and c.has_no_oga_permit then 'cohort'
            when k.comparison = 'no_oga_permit' and not c.has_no_oga_permit then 'baseline'
        end as side
    from cells_in_median_hours as c
    cross join comparisons as k
),

-- Per second, each side only in its own median hours (macros/trs_km.sql).
side_seconds as (
    
    select
        r.period_type,
        r.period_start,
        r.declaration_type,
        r.comparison,
        r.side,
        'ALL' as transport_mode,
        r.km_seconds,
        sum(r.declarations) as declarations,
        sum(r.events) as events,
        sum(r.censored) as censored,
        max(r.source_refreshed_at) as source_refreshed_at
    from sides_seconds as r
    semi join (
        select distinct period_type, period_start, declaration_type, comparison, side, km_hour
        from median_hours
        where ((transport_mode is not distinct from 'ALL'))
    ) as h
        on (r.period_type is not distinct from h.period_type) and (r.period_start is not distinct from h.period_start) and (r.declaration_type is not distinct from h.declaration_type) and (r.comparison is not distinct from h.comparison) and (r.side is not distinct from h.side) and cast(ceil(r.km_seconds / 3600.0) as bigint) = h.km_hour
    group by r.period_type, r.period_start, r.declaration_type, r.comparison, r.side, r.km_seconds
    union all
    select
        r.period_type,
        r.period_start,
        r.declaration_type,
        r.comparison,
        r.side,
        r.transport_mode as transport_mode,
        r.km_seconds,
        sum(r.declarations) as declarations,
        sum(r.events) as events,
        sum(r.censored) as censored,
        max(r.source_refreshed_at) as source_refreshed_at
    from sides_seconds as r
    semi join (
        select distinct period_type, period_start, declaration_type, comparison, side, transport_mode, km_hour
        from median_hours
        where not ((transport_mode is not distinct from 'ALL'))
    ) as h
        on (r.period_type is not distinct from h.period_type) and (r.period_start is not distinct from h.period_start) and (r.declaration_type is not distinct from h.declaration_type) and (r.comparison is not distinct from h.comparison) and (r.side is not distinct from h.side) and (r.transport_mode is not distinct from h.transport_mode) and cast(ceil(r.km_seconds / 3600.0) as bigint) = h.km_hour
    group by r.period_type, r.period_start, r.declaration_type, r.comparison, r.side, r.transport_mode, r.km_seconds
),

side_steps_input as (
    
    select
        r.period_type,
        r.period_start,
        r.declaration_type,
        r.transport_mode,
        r.comparison,
        r.side,
        r.km_seconds,
        r.events,
        r.censored
    from (
        select period_type, period_start, declaration_type, transport_mode, comparison, side, km_seconds, events, censored, cast(ceil(km_seconds / 3600.0) as bigint) as km_hour, 0 as from_seconds
        from side_hour_times
        union all
        select period_type, period_start, declaration_type, transport_mode, comparison, side, km_seconds, events, censored, cast(ceil(km_seconds / 3600.0) as bigint) as km_hour, 1 as from_seconds
        from side_seconds
    ) as r
    left join (select distinct period_type, period_start, declaration_type, transport_mode, comparison, side, km_hour from median_hours) as o
        on (r.period_type is not distinct from o.period_type) and (r.period_start is not distinct from o.period_start) and (r.declaration_type is not distinct from o.declaration_type) and (r.transport_mode is not distinct from o.transport_mode) and (r.comparison is not distinct from o.comparison) and (r.side is not distinct from o.side) and r.km_hour = o.km_hour
    where r.from_seconds = case when o.km_hour is null then 0 else 1 end
),

km_steps as (
    select
        *,
        sum(events) over (
            partition by period_type, period_start, declaration_type, transport_mode, comparison, side
            order by km_seconds rows between unbounded preceding and current row
        ) as released_through,
        sum(events) over (partition by period_type, period_start, declaration_type, transport_mode, comparison, side) as released_total
    from (select
        *,
        round(
            cast(at_risk - events as double) / km_base * exp(coalesce(sum(censoring_log) over (
                partition by period_type, period_start, declaration_type, transport_mode, comparison, side order by km_seconds rows between unbounded preceding and 1 preceding
            ), 0)),
            12
        ) as survival
    from (
        select
            *,
            case
                when censored > 0 and at_risk - events > censored
                    then ln(at_risk - events) - ln(at_risk - events - censored)
                else 0
            end as censoring_log
        from (
            select
                *,
                sum(events + censored) over (partition by period_type, period_start, declaration_type, transport_mode, comparison, side) as km_base,
                sum(events + censored) over (partition by period_type, period_start, declaration_type, transport_mode, comparison, side) - coalesce(sum(events + censored) over (
                    partition by period_type, period_start, declaration_type, transport_mode, comparison, side order by km_seconds rows between unbounded preceding and 1 preceding
                ), 0) as at_risk
            from side_steps_input
        ) as counted
    ) as factored) as steps
),

side_medians as (
    select
        period_type, period_start, declaration_type, transport_mode, comparison, side,
        case when max(released_total) > 0 then (
        min(case when round(cast(released_through as double) / nullif(released_total, 0), 9) >= 0.5 then km_seconds end)
        + min(case when round(cast(released_through as double) / nullif(released_total, 0), 9) > 0.5 then km_seconds end)
    ) / 2.0 end as median_seconds,
        min(case when events > 0 and survival <= 0.5 then km_seconds end) as km_median_seconds
    from km_steps
    group by period_type, period_start, declaration_type, transport_mode, comparison, side
),

side_stats as (
    select
        t.*,
        round(m.median_seconds / 3600.0, 4) as median_hours,
        round(m.km_median_seconds / 3600.0, 4) as km_median_hours
    from side_totals as t
    left join side_medians as m using (period_type, period_start, declaration_type, transport_mode, comparison, side)
),

-- Every group (type, and type and mode, per period) and every comparison, so that a side with
-- no declarations is a row with NULL statistics rather than no row.
groups as (
    select
        period_type,
        period_start,
        case when grouping(declaration_type) = 1 then 'ALL' else declaration_type end as declaration_type,
        case when grouping(transport_mode) = 1 then 'ALL' else transport_mode end as transport_mode,
        case when grouping(transport_mode) = 1 then 'period+type' else 'period+type+mode' end as grouping_set,
        max(source_refreshed_at) as source_refreshed_at
    from cell_hours
    group by grouping sets (
        (period_type, period_start, declaration_type),
        (period_type, period_start, declaration_type, transport_mode)
    )
),

compared as (
    select
        g.*,
        c.comparison,
        co.declarations as cohort_declarations,
        co.released as cohort_released,
        co.still_waiting as cohort_still_waiting,
        co.median_hours as cohort_median_hours,
        co.km_median_hours as cohort_km_median_hours,
        ba.declarations as baseline_declarations,
        ba.released as baseline_released,
        ba.still_waiting as baseline_still_waiting,
        ba.median_hours as baseline_median_hours,
        ba.km_median_hours as baseline_km_median_hours
    from groups as g
    cross join comparisons as c
    left join side_stats as co
        on g.period_type = co.period_type and g.period_start = co.period_start
            and g.declaration_type = co.declaration_type and g.transport_mode = co.transport_mode
            and c.comparison = co.comparison and co.side = 'cohort'
    left join side_stats as ba
        on g.period_type = ba.period_type and g.period_start = ba.period_start
            and g.declaration_type = ba.declaration_type and g.transport_mode = ba.transport_mode
            and c.comparison = ba.comparison and ba.side = 'baseline'
)

select
    period_type,
    period_start,
    declaration_type,
    transport_mode,
    grouping_set,
    comparison,
    cast(coalesce(cohort_declarations, 0) as bigint) as cohort_declarations,
    cast(coalesce(cohort_released, 0) as bigint) as cohort_released,
    cast(coalesce(cohort_still_waiting, 0) as bigint) as cohort_still_waiting,
    cohort_median_hours,
    cohort_km_median_hours,
    cast(coalesce(baseline_declarations, 0) as bigint) as baseline_declarations,
    cast(coalesce(baseline_released, 0) as bigint) as baseline_released,
    cast(coalesce(baseline_still_waiting, 0) as bigint) as baseline_still_waiting,
    baseline_median_hours,
    baseline_km_median_hours,
    -- Relative to the baseline: -0.4 = 40 % faster. Not defined on a zero or negative baseline.
    case
        when baseline_median_hours > 0 then round(cohort_median_hours / baseline_median_hours - 1, 6)
    end as median_relative_difference,
    case
        when baseline_km_median_hours > 0 then round(cohort_km_median_hours / baseline_km_median_hours - 1, 6)
    end as km_median_relative_difference,
    source_refreshed_at
from compared