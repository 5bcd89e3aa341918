{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='replace_since_first_load',
        loaded_at_column='_loaded_at',
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
-- The delete reads the declarations' first loads (strategy replace_since_first_load):
-- depends_on: {{ ref('stg_clearance__declaration_keys') }}
{{ stg_clearance_events_sql() }}
