-- Every SLA indicator measured per period (int_sla_periods), before levels are applied, with
-- the counts behind each value. Incident-based indicators cover only the months the SLA
-- instance's incident exports cover (first opened month .. last update). Means are exact:
-- integer milliseconds summed, divided once (macros/exact.sql).
with periods as (
    select * from {{ ref('int_sla_periods') }}
),

failures as (
    select * from {{ ref('int_itsm_incidents') }}
    where source_system = '{{ var("sla_itsm_source_system") }}' and is_system_failure
),

incident_coverage as (
    select min(opened_month) as first_month, cast(max(last_updated_at) as date) as last_day
    from {{ ref('int_itsm_incidents') }}
    where source_system = '{{ var("sla_itsm_source_system") }}'
),

incident_periods as (
    select
        p.*,
        -- Service time of the period, minutes: calendar time (24 x 7), up to measured_until.
        {{ minutes_between(
            'cast(p.window_start as timestamp)', 'cast(p.measured_until as timestamp) + interval 1 day'
        ) }} as service_minutes
    from periods as p, incident_coverage as c
    where p.period_start >= c.first_month and p.period_start <= c.last_day
),

timely as (
    select
        'SR_TIMELY_PROCESSING_RATE' as indicator_code, period_type, period_start, measured_value,
        scheduled as observations, scheduled, on_time, late, open_at_period_end, delay_days, delay_weight,
        null::bigint as outage_minutes, null::bigint as service_minutes
    from {{ ref('int_sla_timely_processing') }}
),

edoc as (
    select
        'EDOC_TIME_' || upper(d.document_type) as indicator_code, p.period_type, p.period_start,
        {{ exact_mean('d.processing_ms', 1000) }} as measured_value, count(*) as observations
    from periods as p
    join {{ ref('stg_edoc__documents') }} as d
        on cast(d.received_at as date) between p.window_start and p.measured_until
    where d.processing_seconds is not null
    group by all
),

failure_cases as (
    select
        'SYSTEM_FAILURE_CASES' as indicator_code, p.period_type, p.period_start,
        cast(count(f.incident_number) as double) as measured_value, count(f.incident_number) as observations
    from incident_periods as p
    left join failures as f on cast(f.opened_at as date) between p.window_start and p.measured_until
    group by all
),

outages as (
    -- Outage of a service-stopping failure (var itsm_outage_priorities): opened .. restored (or
    -- the end of the period while unrestored), clipped to the period.
    select
        p.period_type, p.period_start, p.service_minutes,
        f.incident_number,
        case
            when f.incident_number is not null
                then greatest(
                        0,
                        {{ minutes_between(
                            'greatest(f.opened_at, cast(p.window_start as timestamp))',
                            'least(coalesce(f.restored_at, cast(p.measured_until as timestamp) + interval 1 day),'
                            ~ ' cast(p.measured_until as timestamp) + interval 1 day)'
                        ) }}
                    )
        end as outage_minutes
    from incident_periods as p
    left join failures as f
        on f.priority in {{ sql_string_list(var('itsm_outage_priorities')) }}
            and f.opened_at < cast(p.measured_until as timestamp) + interval 1 day
            and coalesce(f.restored_at, cast(p.measured_until as timestamp) + interval 1 day)
            > cast(p.window_start as timestamp)
),

availability as (
    select
        'AVAILABILITY' as indicator_code, period_type, period_start,
        {{ hundred() }}
        * (any_value(service_minutes) - coalesce(sum(outage_minutes), 0))
        / any_value(service_minutes) as measured_value,
        count(incident_number) as observations,
        coalesce(sum(outage_minutes), 0) as outage_minutes,
        any_value(service_minutes) as service_minutes
    from outages
    group by period_type, period_start
),

restore as (
    select
        'MEAN_TIME_TO_RESTORE' as indicator_code, p.period_type, p.period_start,
        {{ exact_mean('f.restore_ms', 3600000) }} as measured_value, count(f.restore_ms) as observations
    from incident_periods as p
    left join failures as f on cast(f.restored_at as date) between p.window_start and p.measured_until
    group by all
),

{#- Each indicator's columns; the others are NULL in its rows (timely has them all). #}
{%- set measure_columns = [
    'indicator_code', 'period_type', 'period_start', 'measured_value', 'observations', 'scheduled', 'on_time',
    'late', 'open_at_period_end', 'delay_days', 'delay_weight', 'outage_minutes', 'service_minutes'] %}
{%- set indicator_columns = {
    'timely': measure_columns,
    'edoc': measure_columns[:5],
    'failure_cases': measure_columns[:5],
    'availability': measure_columns[:5] + ['outage_minutes', 'service_minutes'],
    'restore': measure_columns[:5]} %}

measures as (
    {%- for indicator, columns in indicator_columns.items() %}
    select {{ columns_or_null(measure_columns, columns) }} -- noqa: LT05
    from {{ indicator }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    m.indicator_code,
    m.period_type,
    m.period_start,
    p.period_end,
    p.measured_until,
    p.contract_year,
    m.measured_value,
    m.observations,
    m.scheduled,
    m.on_time,
    m.late,
    m.open_at_period_end,
    m.delay_days,
    m.delay_weight,
    m.outage_minutes,
    m.service_minutes
from measures as m
join periods as p on p.period_type = m.period_type and p.period_start = m.period_start
