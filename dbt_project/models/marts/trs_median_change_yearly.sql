{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['year'],
        on_schema_change='fail'
    )
}}
-- Year-over-year change of the median release time, raw and like-for-like (docs/trs.md,
-- "Like-for-like"): per year and group (all declarations; per declaration type; per type and
-- mode), released declarations only. Like-for-like reweights this year's declarations to the
-- previous year's mix of cells (mode x channel x office): a declaration of cell c weighs
-- n_base(c) / n_year(c), so the cells hold the base year's shares; cells absent from either
-- year drop out. The weighted median then says how the median would have moved had the mix
-- stayed the same. Weights are exact decimals, so the same data give the same medians.
-- Incremental: a night recomputes the years with changed declarations and the years after them;
-- of the base year before them it reads only the cells' counts, and its median from this mart, so
-- a night costs the same however many years the warehouse holds.
-- noqa: disable=PRS
-- The incremental filter reads the milestones and the month counts (trs_changed_months):
-- depends_on: {{ ref('int_declaration_milestones') }}, {{ ref('int_trs_month_counts') }}
{%- set group_keys = ['year', 'declaration_type', 'transport_mode'] %}
{%- set cell_keys = ['cell_mode', 'channel', 'customs_office'] %}
{%- set levels = [
    ('period', "'ALL'", "'ALL'"),
    ('period+type', 'declaration_type', "'ALL'"),
    ('period+type+mode', 'declaration_type', 'transport_mode'),
] %}

{%- if is_incremental() %}
{#- The years with changed declarations, the years after them, and the base years before those
    not computed again, as literals (trs_changed_month_list): DuckDB prunes by them. #}
{%- set computed_years = [] %}
{%- for month in trs_changed_month_list() %}
{%- for year in [month[:4] | int, (month[:4] | int) + 1] if year not in computed_years %}
{%- do computed_years.append(year) %}
{%- endfor %}
{%- endfor %}
{%- set base_only_years = [] %}
{%- for year in computed_years if year - 1 not in computed_years %}
{%- do base_only_years.append(year - 1) %}
{%- endfor %}
{%- endif %}

{%- set cell_years = computed_years + base_only_years if is_incremental() else none %}

-- Each year's rows of int_trs_period_cells (its declarations per cell and release time): the
-- computed years' and their base years'. A dbt unit test, which gives declarations, counts them
-- with the model's macro (trs_cells_from_model).
with
{%- if not trs_cells_from_model() %}
declarations_in_years as (
    select
        'year' as period_type,
        cast(date_trunc('year', reference_date) as date) as period_start,
        *
    from {{ ref('int_trs_release_outcomes') }}
),
{%- endif %}

year_cells as (
    {%- if trs_cells_from_model() %}
    select *
    from {{ ref('int_trs_period_cells') }}
    where period_type = 'year'
        {%- if cell_years is not none %}
        and {{ trs_in_years('period_start', cell_years) }}
        {%- endif %}
    {%- else %}
    {{ trs_period_cell_rows('declarations_in_years') }}
    {%- endif %}
),

-- Released declarations per finest cell.
finest_cells as (
    select
        cast(year(period_start) as integer) as year,
        declaration_type,
        transport_mode,
        channel,
        customs_office,
        sum(events) as n
    from year_cells
    group by cast(year(period_start) as integer), declaration_type, transport_mode, channel, customs_office
    having sum(events) > 0
),

-- Released declarations of the computed years per finest cell and hour, the hour's last second
-- as its time: the medians' first pass reads these, not the seconds. The cells' rows per second
-- (in hours holding cargo still waiting) are added up into their hour.
finest_hours as (
    select
        cast(year(period_start) as integer) as year,
        declaration_type,
        transport_mode,
        channel,
        customs_office,
        {{ trs_km_hour('km_seconds') }} * 3600 as release_seconds,
        sum(events) as n,
        max(events_refreshed_at) as source_refreshed_at
    from year_cells
    where events > 0
        {%- if is_incremental() %}
        and {{ trs_in_years('period_start', computed_years) }}
        {%- endif %}
    group by
        cast(year(period_start) as integer), declaration_type, transport_mode, channel, customs_office,
        {{ trs_km_hour('km_seconds') }}
),

-- Per group and cell, for every grouping level.
cell_levels as (
    {{ trs_cells_at_levels('finest_cells', levels, ['n']) }}
),

cells as (
    select
        {{ (group_keys + ['grouping_set'] + cell_keys) | join(', ') }},
        sum(n) as n
    from cell_levels
    group by {{ (group_keys + ['grouping_set'] + cell_keys) | join(', ') }}
),

-- Weight of a declaration of the cell: the base year's count over this year's.
weights as (
    select
        c.{{ (group_keys + ['grouping_set'] + cell_keys) | join(', c.') }},
        cast(round(cast(b.n as double) / c.n, 12) as decimal(38, 12)) as weight
    from cells as c
    inner join cells as b
        on c.year = b.year + 1
            {%- for key in group_keys[1:] + ['grouping_set'] + cell_keys %}
            and c.{{ key }} = b.{{ key }}
            {%- endfor %}
),

-- Each declaration per hour with its like-for-like weight (per second in the median hours below).
weighted_hours as (
    {{ trs_weighted_cells('finest_hours', levels, 'weights', group_keys, cell_keys) }}
),

-- The medians in two passes (macros/trs_km.sql, trs_km_row_hours): running sums per hour find the
-- hours holding them, and only those hours of each group are summed per second. Every sum is
-- exact (counts and decimal weights), so the sums at an hour's end are those of its last second.
by_hour as (
    select
        {{ (group_keys + ['grouping_set']) | join(', ') }},
        km_seconds,
        sum(n) as n,
        sum(weighted_n) as weighted_n,
        max(source_refreshed_at) as source_refreshed_at
    from weighted_hours
    group by {{ (group_keys + ['grouping_set']) | join(', ') }}, km_seconds
),
{%- for name, relation in [('hour_cumulative', 'by_hour'), ('cumulative', 'median_hour_seconds')] %}
{%- if name == 'cumulative' %}

median_hours as (
    {%- set n_share = trs_histogram_share('n_through', 'n_total') %}
    {%- set weighted_share = trs_histogram_share('weighted_through', 'weighted_total') %}
    {{ trs_hours_reaching('hour_cumulative', group_keys + ['grouping_set'], [
        n_share ~ ' >= 0.5', n_share ~ ' > 0.5', weighted_share ~ ' >= 0.5', weighted_share ~ ' > 0.5'
    ]) }}
),

-- The released declarations of the computed years in the hours where some group's median lies,
-- per finest cell and second.
finest_in_median_hours as (
    select
        cast(year(r.reference_date) as integer) as year,
        r.declaration_type,
        r.transport_mode,
        r.channel,
        r.customs_office,
        r.release_seconds,
        count(*) as n,
        max(r._refreshed_at) as source_refreshed_at
    from {{ ref('int_trs_release_outcomes') }} as r
    {{ semi_join() }} (select distinct year, km_hour from median_hours) as h
        on cast(year(r.reference_date) as integer) = h.year and {{ trs_km_hour('r.release_seconds') }} = h.km_hour
    where r.outcome = 'released'
        {%- if is_incremental() %}
        and {{ trs_in_years('r.reference_date', computed_years) }}
        {%- endif %}
    group by
        cast(year(r.reference_date) as integer), r.declaration_type, r.transport_mode, r.channel,
        r.customs_office, r.release_seconds
),

weighted as (
    {{ trs_weighted_cells('finest_in_median_hours', levels, 'weights', group_keys, cell_keys) }}
),

by_second as (
    {{ trs_km_seconds_in_own_hours(
        'weighted', 'median_hours', group_keys + ['grouping_set'], [], [('all', [])],
        ['n', 'weighted_n'], ['source_refreshed_at']
    ) }}
),

median_hour_seconds as (
    {{ trs_km_hours_opened(
        'by_hour', 'by_second', group_keys + ['grouping_set'], 'median_hours',
        columns=['n', 'weighted_n', 'source_refreshed_at']
    ) }}
),
{%- endif %}

{{ name }} as (
    select
        *,
        sum(n) over by_time as n_through,
        sum(n) over by_group as n_total,
        sum(weighted_n) over by_time as weighted_through,
        sum(weighted_n) over by_group as weighted_total
    from {{ relation }}
    window
        by_group as (partition by {{ (group_keys + ['grouping_set']) | join(', ') }}),
        by_time as (
            partition by {{ (group_keys + ['grouping_set']) | join(', ') }}
            order by km_seconds rows between unbounded preceding and current row
        )
),
{%- endfor %}

medians as (
    select
        {{ (group_keys + ['grouping_set']) | join(', ') }},
        max(n_total) as released,
        {{ trs_histogram_median_seconds('n_through', 'n_total') }} as median_seconds,
        {{ trs_histogram_median_seconds('weighted_through', 'weighted_total') }} as like_for_like_median_seconds,
        max(source_refreshed_at) as source_refreshed_at
    from cumulative
    group by {{ (group_keys + ['grouping_set']) | join(', ') }}
),

-- Each year's released declarations and median, as the base of the year after: computed here,
-- or this mart's own rows for the base years not computed again.
base_medians as (
    select
        {{ (group_keys + ['grouping_set']) | join(', ') }},
        released,
        {{ round_double(as_double('median_seconds') ~ ' / 3600.0', 4) }} as median_hours
    from medians
    {%- if is_incremental() %}
    union all
    select {{ (group_keys + ['grouping_set']) | join(', ') }}, released, median_hours
    from {{ this }}
    where year in ({{ (base_only_years or ['null']) | join(', ') }})
    {%- endif %}
),

-- The share of the base year's declarations in cells this year also has.
coverage as (
    select
        b.{{ (group_keys + ['grouping_set']) | join(', b.') }},
        sum(case when c.n is not null then b.n else 0 end) / cast(sum(b.n) as double) as covered_share
    from cells as b
    left join cells as c
        on c.year = b.year + 1
            {%- for key in group_keys[1:] + ['grouping_set'] + cell_keys %}
            and c.{{ key }} = b.{{ key }}
            {%- endfor %}
    group by b.{{ (group_keys + ['grouping_set']) | join(', b.') }}
),

compared as (
    select
        m.year,
        m.declaration_type,
        m.transport_mode,
        m.grouping_set,
        cast(m.released as bigint) as released,
        {{ round_double(as_double('m.median_seconds') ~ ' / 3600.0', 4) }} as median_hours,
        cast(m.year - 1 as integer) as base_year,
        cast(b.released as bigint) as base_released,
        b.median_hours as base_median_hours,
        {{ round_double(
            as_double('case when b.released is not null then m.like_for_like_median_seconds end') ~ ' / 3600.0', 4
        ) }}
            as like_for_like_median_hours,
        round(cv.covered_share, 6) as base_mix_covered_share,
        m.source_refreshed_at
    from medians as m
    left join base_medians as b
        on m.year = b.year + 1 and m.declaration_type = b.declaration_type
            and m.transport_mode = b.transport_mode and m.grouping_set = b.grouping_set
    left join coverage as cv
        on m.year = cv.year + 1 and m.declaration_type = cv.declaration_type
            and m.transport_mode = cv.transport_mode and m.grouping_set = cv.grouping_set
)

select
    year,
    declaration_type,
    transport_mode,
    grouping_set,
    released,
    median_hours,
    base_year,
    base_released,
    base_median_hours,
    like_for_like_median_hours,
    base_mix_covered_share,
    -- Relative change, -0.1 = 10 % faster; not defined on a zero or negative base median.
    case when base_median_hours > 0 then round(median_hours / base_median_hours - 1, 6) end as median_change_raw,
    case when base_median_hours > 0
            then round(like_for_like_median_hours / base_median_hours - 1, 6)
    end as median_change_like_for_like,
    source_refreshed_at
from compared
{%- if is_incremental() %}
where year in ({{ (computed_years or ['null']) | join(', ') }})
{%- endif %}
