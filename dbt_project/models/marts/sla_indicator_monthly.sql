-- The SLA scorecard: every indicator of the catalogue (seed sla_catalogue, per contract year)
-- per month and per contract year to date, with its levels and attainment band.
with measures as (
    select * from {{ ref('int_sla_measures') }}
),

catalogue as (
    select * from {{ ref('sla_catalogue') }}
)

select
    m.indicator_code,
    c.indicator_name,
    m.period_type,
    m.period_start,
    m.period_end,
    m.measured_until,
    m.contract_year,
    c.catalogue_version,
    cast(m.measured_value as double) as measured_value,
    c.unit,
    c.direction,
    c.goal_level,
    c.basic_level,
    c.minimum_level,
    {{ sla_attainment('m.measured_value', 'c.direction', 'c.goal_level', 'c.basic_level', 'c.minimum_level') }}
        as attainment,
    cast(m.observations as bigint) as observations,
    cast(m.scheduled as bigint) as scheduled,
    cast(m.on_time as bigint) as on_time,
    cast(m.late as bigint) as late,
    cast(m.open_at_period_end as bigint) as open_at_period_end,
    cast(m.delay_days as bigint) as delay_days,
    cast(m.delay_weight as double) as delay_weight,
    cast(m.outage_minutes as bigint) as outage_minutes,
    cast(m.service_minutes as bigint) as service_minutes
from measures as m
join catalogue as c
    on c.indicator_code = m.indicator_code and c.contract_year = m.contract_year
