-- Groups of trs_actor_time whose parties' shares do not add up to 1 (each share is rounded to 6
-- decimals, so the sum may be off by 3e-6 at five parties) or whose hours do not add up to the
-- total: the overlap rule gives every second to exactly one party.
select
    period_type, period_start, declaration_type, transport_mode, channel, customs_office,
    sum(share) as shares, sum(hours) as hours, max(total_hours) as total_hours
from {{ ref('trs_actor_time') }}
group by period_type, period_start, declaration_type, transport_mode, channel, customs_office
having abs(sum(share) - 1) > 1e-5 or abs(sum(hours) - max(total_hours)) > 1e-3
