-- The SLA's measuring periods: every month from the first to the last month with SLA data (S/R
-- due, incidents of the SLA instance, e-documents), inside a contract year of the catalogue; for
-- each month a 'month' row and a 'contract_year_to_date' row (contract year start .. month end).
-- `as_of_date` is the latest export date of the SLA instance's data: a period is measured up to
-- its end or up to that date, whichever is earlier.
with data_months as (
    select cast(date_trunc('month', due_date) as date) as m, export_date as as_of
    from {{ ref('stg_itsm__service_requests') }}
    where source_system = '{{ var("sla_itsm_source_system") }}'
    union all
    select opened_month as m, cast(last_updated_at as date) as as_of
    from {{ ref('int_itsm_incidents') }}
    where source_system = '{{ var("sla_itsm_source_system") }}'
    union all
    select cast(date_trunc('month', received_at) as date) as m, cast(received_at as date) as as_of
    from {{ ref('stg_edoc__documents') }}
),

bounds as (
    select min(m) as first_month, max(as_of) as as_of_date from data_months
),

months as (
    select g.period_start, b.as_of_date
    from bounds as b
    cross join lateral {{ month_series(
        'b.first_month', "cast(date_trunc('month', b.as_of_date) as date)", 'period_start'
    ) }} as g
    where b.first_month is not null
),

contract_years as (
    select distinct contract_year, contract_year_start, contract_year_end
    from {{ ref('sla_catalogue') }}
),

monthly as (
    select
        m.period_start,
        cast(m.period_start + interval 1 month - interval 1 day as date) as period_end,
        m.as_of_date,
        c.contract_year,
        c.contract_year_start
    from months as m
    join contract_years as c on m.period_start between c.contract_year_start and c.contract_year_end
)

select
    'month' as period_type, period_start, period_end, period_start as window_start,
    least(period_end, as_of_date) as measured_until, contract_year
from monthly
union all
select
    'contract_year_to_date' as period_type, period_start, period_end, contract_year_start as window_start,
    least(period_end, as_of_date) as measured_until, contract_year
from monthly
