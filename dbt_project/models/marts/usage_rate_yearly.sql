-- Usage rate of the Single Window per year: applications lodged through it out of all
-- applications that needed a requirement of another agency (DOMAIN.md section 5).
select
    year,
    sum(sw_applications)::bigint as sw_applications,
    sum(all_applications)::bigint as all_applications,
    count(*) as agencies,
    round({{ hundred() }} * sum(sw_applications) / nullif(sum(all_applications), 0), 2) as usage_rate_pct
from {{ ref('stg_usage__statistics') }}
group by year
