-- RELEASE_TIME_AIR_IMPORT: mean release time (arrival to release) of air-cargo imports, days.
select cast(year(period_start) as integer) as year, round(mean_hours / 24, 2) as actual_value
from {{ ref('trs_release_time') }}
where period_type = 'year' and grouping_set = 'period+type+mode'
  and declaration_type = 'import' and transport_mode = 'air'
