{{ config(materialized='view') }}
-- Alerts: one row per breach of what the operators agreed (seed alert_rules; docs/alerts.md).
-- A view: it reads the latest source freshness check and the alert log (meta), which the steps
-- after the build write, so the alert step and the snapshot see them as they are now. The
-- breach rows are a function of the marts; first_seen_at is the alert log's, NULL until the
-- alert step has recorded the breach (every published snapshot has it).
with rules as (
    select * from {{ ref('alert_rules') }}
    where enabled
),

-- An SLA indicator's month short of its basic level ('minimum' band) or of its minimum level.
sla as (
    select
        r.alert_rule,
        r.severity,
        s.indicator_code as indicator,
        'ALL' as subject,
        s.indicator_name,
        'month' as period_type,
        s.period_start,
        s.measured_value as value,
        s.unit,
        case r.alert_rule when 'sla_below_basic' then s.basic_level else s.minimum_level end as threshold,
        cast(null as double) as baseline,
        {{ text_format_function() }}(
            {{ text_template('{} {}: {} {} misses the {} level {} {}') }},
            coalesce(s.indicator_name, s.indicator_code), {{ format_time('s.period_start', '%Y-%m') }},
            round(s.measured_value, 2),
            coalesce(s.unit, ''),
            case r.alert_rule when 'sla_below_basic' then 'basic' else 'minimum' end,
            case r.alert_rule when 'sla_below_basic' then s.basic_level else s.minimum_level end, coalesce(s.unit, '')
        ) as message
    from {{ ref('sla_indicator_monthly') }} as s
    inner join rules as r
        on r.alert_rule = case s.attainment
                when 'minimum' then 'sla_below_basic'
                when 'below_minimum' then 'sla_below_minimum'
            end
    where s.period_type = 'month'
),

-- A Balanced Scorecard KPI of a year that is 'missed': short of its threshold level.
kpi as (
    select
        r.alert_rule,
        r.severity,
        k.kpi_code as indicator,
        'ALL' as subject,
        k.kpi_name as indicator_name,
        'year' as period_type,
        make_date(k.year, 1, 1) as period_start,
        k.actual_value as value,
        k.unit,
        k.threshold_value as threshold,
        cast(null as double) as baseline,
        {{ text_format_function() }}(
            {{ text_template('{} {}: {} {} misses the KPI threshold {} {}') }},
            coalesce(k.kpi_name, k.kpi_code), k.year, round(k.actual_value, 2), coalesce(k.unit, ''),
            k.threshold_value, coalesce(k.unit, '')
        ) as message
    from {{ ref('kpi_scorecard') }} as k
    inner join rules as r on r.alert_rule = 'kpi_missed'
    where k.status = 'missed'
),

-- TRS: the monthly median release time of each declaration type and mode, the months with enough
-- released declarations to judge.
trs_rule as (
    select * from rules where alert_rule = 'trs_median_rise'
),

trs_months as (
    select t.declaration_type, t.transport_mode, t.period_start, t.median_hours
    from {{ ref('trs_release_time') }} as t
    cross join trs_rule as r
    where
        t.period_type = 'month' and t.grouping_set = 'period+type+mode'
        and t.median_hours is not null and t.released >= r.min_observations
),

-- Baseline: the median of the judged monthly medians of the baseline_months before the month.
trs_baselines as (
    select
        m.declaration_type,
        m.transport_mode,
        m.period_start,
        m.median_hours,
        median(b.median_hours) as baseline_hours,
        count(*) as baseline_months
    from trs_months as m
    cross join trs_rule as r
    inner join trs_months as b
        on
            b.declaration_type = m.declaration_type and b.transport_mode = m.transport_mode
            and b.period_start >= {{ months_before('m.period_start', 'r.baseline_months') }}
            and b.period_start < m.period_start
    group by all
),

trs as (
    select
        r.alert_rule,
        r.severity,
        'TRS_MEDIAN_RELEASE_TIME' as indicator,
        b.declaration_type || '/' || b.transport_mode as subject,
        'Median release time (arrival to release)' as indicator_name,
        'month' as period_type,
        b.period_start,
        b.median_hours as value,
        'h' as unit,
        round(r.threshold * b.baseline_hours, 4) as threshold,
        round(b.baseline_hours, 4) as baseline,
        {{ text_format_function() }}(
            {{ text_template(
                'Median release time of {} {} cargo in {}: {} h, over {} x its trailing {}-month median ({} h)'
            ) }},
            b.declaration_type, b.transport_mode, {{ format_time('b.period_start', '%Y-%m') }},
            round(b.median_hours, 2),
            r.threshold, r.baseline_months, round(b.baseline_hours, 2)
        ) as message
    from trs_baselines as b
    cross join trs_rule as r
    where b.baseline_months >= r.min_baseline_months and b.median_hours > r.threshold * b.baseline_hours
),

-- C/S: a source's monthly hit rate (all offices, modes, import types) under the floor.
cs as (
    select
        r.alert_rule,
        r.severity,
        'CS_HIT_RATE' as indicator,
        c.source as subject,
        'C/S detection (hit) rate' as indicator_name,
        'month' as period_type,
        c.period_start,
        c.hit_rate as value,
        'ratio' as unit,
        r.threshold,
        cast(null as double) as baseline,
        {{ text_format_function() }}(
            {{ text_template('C/S hit rate ({}) in {}: {} %, under the floor of {} % ({} inspections)') }},
            c.source, {{ format_time('c.period_start', '%Y-%m') }}, round(100 * c.hit_rate, 2),
            round(100 * r.threshold, 2),
            c.inspections
        ) as message
    from {{ ref('cs_inspection_performance') }} as c
    inner join rules as r on r.alert_rule = 'cs_hit_rate_floor'
    where
        c.period_type = 'month' and c.grouping_set = 'period'
        and c.inspections >= r.min_observations and c.hit_rate < r.threshold
),

-- A source past its freshness window (dbt's warn or error) at the latest check. Its period is
-- the day of its last delivery: a new delivery ends the breach, and a later silence is a new one.
latest_freshness as (
    select
        *,
        -- the window in hours (dbt's wording, e.g. '2 days', '12 hours')
        cast(split_part(warn_after, ' ', 1) as double)
        * case
            when split_part(warn_after, ' ', 2) like 'minute%' then 1.0 / 60
            when split_part(warn_after, ' ', 2) like 'hour%' then 1
            when split_part(warn_after, ' ', 2) like 'day%' then 24
        end as warn_after_hours
    from {{ ref('stg_meta__source_freshness') }}
    qualify checked_at = max(checked_at) over ()
),

stale as (
    select
        r.alert_rule,
        r.severity,
        'SOURCE_FRESHNESS' as indicator,
        f.source as subject,
        'Hours since the last delivery' as indicator_name,
        'last_delivery' as period_type,
        cast(f.max_loaded_at as date) as period_start,
        f.age_hours as value,
        'h' as unit,
        f.warn_after_hours as threshold,
        cast(null as double) as baseline,
        {{ text_format_function() }}(
            {{ text_template('{}: last delivered {} UTC, {} days before the check, past its window of {}') }},
            f.source, {{ format_time('f.max_loaded_at', '%Y-%m-%d %H:%M') }}, round(f.age_hours / 24, 1), f.warn_after
        ) as message
    from latest_freshness as f
    inner join rules as r on r.alert_rule = 'source_stale'
    where f.status in ('warn', 'error') and f.max_loaded_at is not null
),

breaches as (
    select * from sla
    union all
    select * from kpi
    union all
    select * from trs
    union all
    select * from cs
    union all
    select * from stale
),

keyed as (
    select
        concat_ws(
            '|', alert_rule, indicator, subject, period_type, {{ format_time('period_start', '%Y-%m-%d') }}
        ) as alert_key,
        *
    from breaches
)

select
    k.alert_key,
    k.alert_rule,
    k.severity,
    k.indicator,
    k.subject,
    k.indicator_name,
    k.period_type,
    cast(k.period_start as date) as period_start,
    cast(k.value as double) as value,
    k.unit,
    cast(k.threshold as double) as threshold,
    cast(k.baseline as double) as baseline,
    k.message,
    l.first_seen_at
from keyed as k
left join {{ ref('stg_meta__alert_log') }} as l on l.alert_key = k.alert_key
order by k.alert_key
