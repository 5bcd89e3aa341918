-- One row per milestone event: the version from the most recently loaded file wins
-- (the SQL is in macros/clearance_staging.sql, shared with the nightly incremental model).
{{ stg_clearance_events_sql() }}
