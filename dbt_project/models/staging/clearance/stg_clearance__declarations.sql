-- One row per declaration: the version from the most recently loaded file wins (a corrected
-- re-delivery replaces the earlier one). Codes become the lower-case labels marts use.
-- The SQL is in macros/clearance_staging.sql, shared with the nightly incremental model.
{{ stg_clearance_declarations_sql() }}
