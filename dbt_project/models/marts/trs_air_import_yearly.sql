-- The headline figure: release time (arrival to release) of air-cargo imports per year, in
-- days. The KPI RELEASE_TIME_AIR_IMPORT, `swpm headline` and the report read this one model.
-- mean, median and p90 are released-only (as the anchors publish them); km_median_days also
-- counts the cargo still waiting (Kaplan-Meier).
select
    cast(year(period_start) as integer) as year,
    declarations,
    released,
    round(mean_hours / 24, 2) as mean_days,
    round(median_hours / 24, 2) as median_days,
    round(p90_hours / 24, 2) as p90_days,
    still_waiting,
    round(km_median_hours / 24, 2) as km_median_days
from {{ ref('trs_release_time') }}
where period_type = 'year' and grouping_set = 'period+type+mode'
    and declaration_type = 'import' and transport_mode = 'air'
