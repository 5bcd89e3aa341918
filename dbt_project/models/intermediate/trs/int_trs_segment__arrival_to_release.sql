{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['period_type', 'period_start'],
        on_schema_change='fail'
    )
}}
-- TRS statistics of the segment arrival_to_release (macros/trs.sql, trs_segment_statistics).
{{ trs_segment_statistics('arrival_to_release') }}
