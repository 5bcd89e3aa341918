-- RELEASE_TIME_AIR_IMPORT: mean release time (arrival to release) of air-cargo imports, days.
select year, mean_days as actual_value
from {{ ref('trs_air_import_yearly') }}
