-- Order statistics must be ordered: min <= median <= p90 <= p95 <= max.
select * from {{ ref('trs_release_time') }}
where not (min_hours <= median_hours and median_hours <= p90_hours
           and p90_hours <= p95_hours and p95_hours <= max_hours)
