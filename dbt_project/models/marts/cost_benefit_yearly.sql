-- Cost and benefit of the Single Window per year (DOMAIN.md section 6). Booked figures come
-- from the cost ledger; the break-even year is the first year whose cumulative savings reach
-- the cumulative investment. Beside the booked savings, an estimate from release-time
-- reduction: hours saved per import declaration against var benefit_baseline_year (TRS mean,
-- all modes) x var benefit_import_declarations_per_year x var holding_cost_krw_per_cargo_hour.
with booked as (
    select
        year,
        coalesce(sum(amount_krw) filter (where cost_type = 'investment'), 0)::bigint as investment_krw,
        coalesce(sum(amount_krw) filter (where cost_type = 'operating'), 0)::bigint as operating_cost_krw,
        coalesce(sum(amount_krw) filter (where cost_type = 'savings'), 0)::bigint as booked_savings_krw
    from {{ ref('stg_ledger__entries') }}
    group by year
),

cumulative as (
    select
        *,
        sum(investment_krw) over (order by year rows unbounded preceding)::bigint as cumulative_investment_krw,
        sum(operating_cost_krw) over (order by year rows unbounded preceding)::bigint as cumulative_operating_cost_krw,
        sum(booked_savings_krw) over (order by year rows unbounded preceding)::bigint as cumulative_savings_krw
    from booked
),

positions as (
    select
        *,
        cumulative_savings_krw - cumulative_investment_krw as net_cumulative_position_krw,
        round((cumulative_savings_krw - cumulative_investment_krw) / nullif(cumulative_investment_krw, 0), 4)
            as roi_to_date,
        cumulative_investment_krw > 0 and cumulative_savings_krw >= cumulative_investment_krw as is_break_even
    from cumulative
),

release_time as (
    select cast(year(period_start) as integer) as year, mean_hours
    from {{ ref('trs_release_time') }}
    where period_type = 'year' and grouping_set = 'period+type' and declaration_type = 'import'
),

baseline as (
    select mean_hours from release_time where year = {{ var('benefit_baseline_year') }}
)

select
    p.year,
    p.investment_krw,
    p.cumulative_investment_krw,
    p.operating_cost_krw,
    p.cumulative_operating_cost_krw,
    p.booked_savings_krw,
    p.cumulative_savings_krw,
    p.net_cumulative_position_krw,
    p.roi_to_date,
    p.is_break_even,
    min(p.year) filter (where p.is_break_even) over () as break_even_year,
    coalesce(p.year = min(p.year) filter (where p.is_break_even) over (), false) as is_break_even_year,
    round(b.mean_hours - r.mean_hours, 4) as hours_saved_per_declaration,
    round(
        (b.mean_hours - r.mean_hours) * {{ var('benefit_import_declarations_per_year') }}
        * {{ var('holding_cost_krw_per_cargo_hour') }}
    )::bigint as estimated_savings_krw
from positions p
left join release_time r on r.year = p.year
left join baseline b on true
