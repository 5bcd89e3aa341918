{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['period_type', 'period_start'],
        on_schema_change='fail'
    )
}}
-- TRS statistics of the segment arrival_to_release (macros/trs.sql, trs_segment_statistics).
-- GROUP BY GROUPING SETS below: DuckDB runs it, the linter's duckdb dialect cannot parse it.
-- noqa: disable=PRS
{{ trs_segment_statistics('arrival_to_release') }}
