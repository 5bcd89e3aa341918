{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['period_type', 'period_start'],
        on_schema_change='fail'
    )
}}
-- TRS statistics of the segment release_to_gate_out (macros/trs.sql, trs_segment_statistics).
-- GROUP BY GROUPING SETS below: DuckDB runs it, the linter's duckdb dialect cannot parse it.
-- noqa: disable=PRS
{{ trs_segment_statistics('release_to_gate_out') }}
