{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='append',
        pre_hook="{{ trs_delete_recomputed_periods() }}",
        on_schema_change='fail'
    )
}}
-- The declarations of each TRS segment and period (month and year, by reference date) counted per
-- finest TRS group (type, mode, channel, office) and hour of the segment's duration, once for the
-- six segment models (models/intermediate/trs/), which add these rows up into their grouping sets
-- and read the declarations again only for the seconds of the hours where a percentile lies
-- (trs_segment_statistics). Every sum is an exact integer.
-- A year's rows are its months' added up, so a night counts only the declarations of the months
-- it recomputes (those that received changed declarations, with their years) and reads the
-- year's other months from this table. Their old rows are deleted first (the pre-hook), then the
-- new ones appended.
-- The incremental filter reads the milestones (trs_changed_months):
-- depends_on: {{ ref('int_declaration_milestones') }}
{%- set months = trs_recomputed_months() %}
{%- set keys = ['segment'] + trs_km_cell_columns() + ['km_seconds'] %}
{%- set measures = ['declarations', 'n_seconds', 'sum_seconds', 'sum_squared_seconds', 'negative_count',
                    'source_refreshed_at'] %}

-- Inlined: each segment reads it with its own condition.
with declarations as {{ inlined_cte(on_incremental=true) }} (
    select *
    from {{ ref('int_declaration_milestones') }}
    where reference_date is not null
        {%- if months is not none %}
        and {{ trs_in_periods('reference_date', months, 'month') }}
        {%- endif %}
),

segment_seconds as (
    {%- for segment, hours in trs_segments().items() %}
    select
        '{{ segment }}' as segment,
        declaration_type,
        transport_mode,
        channel,
        customs_office,
        cast(date_trunc('month', reference_date) as date) as period_start,
        {{ whole_seconds(hours) }} as segment_seconds,
        _refreshed_at
    from declarations
    where {{ hours }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

month_cells as (
    select
        segment,
        'month' as period_type,
        period_start,
        declaration_type,
        transport_mode,
        channel,
        customs_office,
        {{ trs_km_hour('segment_seconds') }} * 3600 as km_seconds,
        count(*) as declarations,
        {{ trs_seconds_sums('segment_seconds') }},
        count(*) filter (where segment_seconds < 0) as negative_count,
        max(_refreshed_at) as source_refreshed_at
    from segment_seconds
    group by
        segment, period_start, declaration_type, transport_mode, channel, customs_office,
        {{ trs_km_hour('segment_seconds') }}
),

-- Every month of the years computed: those just counted and, on a night, the others of their
-- years as this table holds them (the pre-hook deleted the recomputed ones).
year_months as (
    select * from month_cells
    {%- if months is not none %}
    union all
    select {{ (keys + measures) | join(', ') }}
    from {{ this }}
    where period_type = 'month' and {{ trs_in_periods('period_start', months, 'year') }}
    {%- endif %}
)

select * from month_cells
union all
select
    segment,
    'year' as period_type,
    cast(date_trunc('year', period_start) as date) as period_start,
    declaration_type,
    transport_mode,
    channel,
    customs_office,
    km_seconds,
    cast(sum(declarations) as bigint) as declarations,
    cast(sum(n_seconds) as bigint) as n_seconds,
    sum(sum_seconds) as sum_seconds,
    sum(sum_squared_seconds) as sum_squared_seconds,
    cast(sum(negative_count) as bigint) as negative_count,
    max(source_refreshed_at) as source_refreshed_at
from year_months
group by
    segment, cast(date_trunc('year', period_start) as date), declaration_type, transport_mode, channel,
    customs_office, km_seconds
