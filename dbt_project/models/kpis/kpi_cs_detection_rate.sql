-- CS_DETECTION_RATE: detection (hit) rate of import inspection, percent: detections / inspections
-- of the year over all offices, modes and import types. The clearance log covers every
-- inspected declaration, so it is preferred; the KCS extract counts where it is the only source.
select year(period_start) as year, 100 * hit_rate as actual_value
from {{ ref('cs_inspection_performance') }}
where period_type = 'year'
    and customs_office = 'ALL' and transport_mode = 'ALL' and import_type = 'ALL'
    and hit_rate is not null
qualify
    row_number() over (
        partition by year(period_start)
        order by case source when 'clearance_log' then 1 else 2 end
    ) = 1
