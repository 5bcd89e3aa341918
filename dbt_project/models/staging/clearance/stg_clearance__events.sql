{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['declaration_id', 'event_id'],
        on_schema_change='fail'
    )
}}
-- One row per milestone event: the version from the most recently loaded file wins
-- (the SQL is in macros/clearance_staging.sql).
-- A table, not a view: at a real year (over 100 million events) ranking the whole raw history
-- on every read, and in every test, costs minutes. Incremental: a night ranks only the rows
-- loaded since the last build and replaces the staged versions of their events; a declaration's
-- other events stay as they were.
{{ stg_clearance_events_sql() }}
