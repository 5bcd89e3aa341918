-- Inspections in each source's all-groups row of each period equal the inspected declarations
-- of the intermediate model.
with expected as (
    {% for period in ['year', 'month'] %}
    select
        source,
        '{{ period }}' as period_type,
        cast(date_trunc('{{ period }}', reference_date) as date) as period_start,
        count(*) filter (where is_inspected) as n
    from {{ ref('int_cs_inspections') }}
    where reference_date is not null
    group by all
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select e.*, m.inspections
from expected as e
full outer join (
    select * from {{ ref('cs_inspection_performance') }} where grouping_set = 'period'
) as m
    using (source, period_type, period_start)
where m.inspections is distinct from e.n
