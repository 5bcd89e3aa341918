-- Timely processing rate of service requests (DOMAIN.md section 4, the seed's formula):
--   100 * on_time / (scheduled + delay_weight * sum(delay_days))
-- scheduled  = S/R of the SLA instance whose due date falls in the period (up to measured_until;
--              cancelled requests are not scheduled work);
-- on_time    = of those, completed on or before the due date;
-- delay_days = for the late ones, days from the due date to completion, or to the end of the
--              period (measured_until) if not completed by then (still open at period end).
-- No request scheduled: the value is NULL (not measured), not 100.
with periods as (
    select * from {{ ref('int_sla_periods') }}
),

requests as (
    select * from {{ ref('stg_itsm__service_requests') }}
    where source_system = '{{ var("sla_itsm_source_system") }}' and not is_cancelled
),

weights as (
    select contract_year, delay_weight
    from {{ ref('sla_catalogue') }}
    where indicator_code = 'SR_TIMELY_PROCESSING_RATE'
),

scored as (
    select
        p.period_type,
        p.period_start,
        r.request_number,
        r.completed_date is not null and r.completed_date <= r.due_date as is_on_time,
        case
            when r.request_number is null then null
            when r.completed_date is not null and r.completed_date <= r.due_date then 0
            when r.completed_date is not null and r.completed_date <= p.measured_until
                then {{ days_between('r.due_date', 'r.completed_date') }}
            else {{ days_between('r.due_date', 'p.measured_until') }}
        end as delay_days,
        r.completed_date is null or r.completed_date > p.measured_until as is_open_at_period_end
    from periods as p
    left join requests as r
        on r.due_date between p.window_start and p.measured_until
)

select
    s.period_type,
    s.period_start,
    count(s.request_number) as scheduled,
    count(s.request_number) filter (where s.is_on_time) as on_time,
    count(s.request_number) filter (where not s.is_on_time) as late,
    count(s.request_number) filter (where not s.is_on_time and s.is_open_at_period_end) as open_at_period_end,
    coalesce(sum(s.delay_days), 0) as delay_days,
    any_value(w.delay_weight) as delay_weight,
    case
        when count(s.request_number) > 0
            then {{ hundred() }} * count(s.request_number) filter (where s.is_on_time)
                / (count(s.request_number) + any_value(w.delay_weight) * coalesce(sum(s.delay_days), 0))
    end as measured_value
from scored as s
join periods as p on p.period_type = s.period_type and p.period_start = s.period_start
left join weights as w on w.contract_year = p.contract_year
group by s.period_type, s.period_start
