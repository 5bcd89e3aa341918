{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='month_start',
        on_schema_change='fail'
    )
}}
-- The declarations of each month of reference date, and the newest load through which that
-- count last changed. A changed declaration gives the TRS models its month as it is now; the
-- month a correction moved it out of is found here, its count having fallen, so that no TRS
-- model keeps counting the declaration there (trs_changed_months lists the months whose count
-- changed after a model's watermark). A night writes only the months whose count changed; a
-- month left with no declaration keeps a row of 0.
{%- set counted -%}
    select
        cast(date_trunc('month', reference_date) as date) as month_start,
        count(*) as declarations,
        max(_refreshed_at) as newest_refreshed_at
    from {{ ref('int_declaration_milestones') }}
    where reference_date is not null
    group by cast(date_trunc('month', reference_date) as date)
{%- endset %}

{%- if is_incremental() %}

with counted as (
    {{ counted }}
)

select
    coalesce(c.month_start, s.month_start) as month_start,
    coalesce(c.declarations, 0) as declarations,
    -- The newest load the milestones hold: every declaration that changed this month's count
    -- was loaded by then.
    (select max(_refreshed_at) from {{ ref('int_declaration_milestones') }}) as count_changed_through
from counted as c
full join {{ this }} as s on c.month_start = s.month_start
where coalesce(c.declarations, 0) <> coalesce(s.declarations, 0)
{%- else %}

select
    month_start,
    declarations,
    newest_refreshed_at as count_changed_through
from ({{ counted }}) as c
{%- endif %}
