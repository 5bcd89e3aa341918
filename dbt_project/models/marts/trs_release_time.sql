{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['period_type', 'period_start'],
        on_schema_change='fail'
    )
}}
-- Time Release Study: total release time (release minus arrival) per period and group.
-- Every statistic of every row, rollups included, is exact over its declarations: counts and
-- integer sums are added up from the finest groups, percentiles computed from the declarations
-- (they are not additive); nothing is averaged from finer rows. A nightly build recomputes only the months and
-- years that received changed declarations, or whose cargo still waiting the moving data
-- horizon re-ages, and every period when trs_targets changed; their old rows are replaced whole.
-- Statistics are computed on whole seconds (macros/trs.sql): exact, and the same on every run.
-- Released-only statistics (mean_hours .. within_target_share) cover released declarations;
-- the Kaplan-Meier ones (km_median_hours, km_p90_hours) count cargo still waiting as censored
-- (macros/trs_km.sql).
-- GROUP BY GROUPING SETS below: DuckDB runs it, the linter's duckdb dialect cannot parse it.
-- noqa: disable=PRS
-- The incremental filter reads the milestones and the month counts (trs_changed_months):
-- depends_on: {{ ref('int_declaration_milestones') }}, {{ ref('int_trs_month_counts') }}
{%- set targets_version = trs_targets_version() %}
{%- set recomputed_months = trs_recomputed_months(censoring=true, reference=targets_version) %}
{#- The released-only percentiles: median_hours, p90_hours, p95_hours. #}
{%- set released_shares = [0.5, 0.9, 0.95] %}
{%- set group_keys = ['period_type', 'period_start', 'declaration_type', 'transport_mode', 'channel',
                      'customs_office'] %}

with declarations as {{ inlined_cte(on_incremental=true) }} (
    select * from {{ ref('int_trs_release_outcomes') }}
),

in_periods as (
    {{ trs_rows_in_months('declarations', recomputed_months) }}
),

-- The declarations counted per period, cell and time (int_trs_period_cells, for the periods this
-- build recomputes): counts and integer sums are added up per group of the grouping sets, and the
-- Kaplan-Meier rows below are regrouped from them. Percentiles are not additive: they are read
-- from the Kaplan-Meier rows, which count every declaration, and the seconds of only the hours
-- where an order statistic lies, read again from the declarations.
cells as (
    {%- if trs_cells_from_model() %}
    {{ trs_cells_in_months(ref('int_trs_period_cells'), recomputed_months) }}
    {%- else %}
    {{ trs_period_cell_rows('in_periods') }}
    {%- endif %}
),

summed as (
    select
        {{ trs_group_columns() }}
        {%- for column in ['declarations', 'n_seconds', 'within_24h', 'within_48h', 'outliers', 'still_waiting',
                           'release_not_logged', 'with_target', 'released_with_target', 'within_target'] %},
        cast(sum({{ column }}) as bigint) as {{ column }}
        {%- endfor %},
        sum(sum_seconds) as sum_seconds,
        sum(sum_squared_seconds) as sum_squared_seconds,
        min(min_seconds) as min_seconds,
        max(max_seconds) as max_seconds,
        min(min_target_hours) as min_target_hours,
        max(max_target_hours) as max_target_hours,
        max(source_refreshed_at) as source_refreshed_at
    from cells
    group by {{ trs_grouping_sets() }}
),

-- Kaplan-Meier: released and censored declarations per period, finest group and hour (per
-- second in the hours holding a censored declaration), then per group (the grouping sets); the
-- declarations counted again per second only in the hours where a quantile is reached
-- (macros/trs_km.sql, trs_km_row_hours and trs_km_row_seconds_in_hours). The same rows give the
-- released-only percentiles (released counts ranked: their order statistics' hours are opened
-- too) and the still-waiting median age (censored counts, always per second): the exact values
-- of quantile_cont over the declarations, without holding every value of the year.
km_cells as (
    select * from cells
    where km_seconds is not null
),

km_hours as (
    {{ trs_km_group_hours('km_cells') }}
),

km_hours_ranked as (
    {{ trs_counts_through('km_hours', group_keys, ['events']) }}
),

km_hour_steps as (
    {{ trs_km_steps('km_hours_ranked', group_keys) }}
),

km_quantile_hours as (
    {%- set conditions = [trs_km_reached(0.5), trs_km_reached(0.9)] %}
    {%- for share in released_shares %}
    {%- for side in ['floor', 'ceil'] %}
    {%- do conditions.append(trs_rank_reached('events', share, side)) %}
    {%- endfor %}
    {%- endfor %}
    {{ trs_hours_reaching('km_hour_steps', group_keys, conditions) }}
),

km_cells_in_quantile_hours as (
    {{ trs_km_row_seconds_in_hours('in_periods', trs_km_cell_columns(), 'km_quantile_hours') }}
),

km_quantile_hour_seconds as (
    {{ trs_km_seconds_in_own_hours(
        'km_cells_in_quantile_hours', 'km_quantile_hours', ['period_type', 'period_start'],
        ['declaration_type', 'transport_mode', 'channel', 'customs_office'], trs_dimension_sets(),
        ['events', 'censored'], set_column='grouping_set'
    ) }}
),

km_times as (
    {{ trs_km_hours_opened('km_hours', 'km_quantile_hour_seconds', group_keys, 'km_quantile_hours') }}
),

km_times_ranked as (
    {{ trs_counts_through('km_times', group_keys) }}
),

km_steps as (
    {{ trs_km_steps('km_times_ranked', group_keys) }}
),

km as (
    select
        {{ group_keys | join(', ') }},
        {%- for share in released_shares %}
        {{ trs_interpolated_quantile_seconds('events', share) }} as released_q{{ loop.index }}_seconds,
        {%- endfor %}
        {{ trs_interpolated_quantile_seconds('censored', 0.5) }} as waiting_age_median_seconds,
        {{ trs_km_quantile_seconds(0.5) }} as km_median_seconds,
        {{ trs_km_quantile_seconds(0.9) }} as km_p90_seconds
    from km_steps
    group by {{ group_keys | join(', ') }}
)

select
    g.period_type,
    g.period_start,
    g.declaration_type,
    g.transport_mode,
    g.channel,
    g.customs_office,
    g.grouping_set,
    g.declarations,
    g.n_seconds as released,
    {{ trs_mean_hours() }} as mean_hours,
    {%- for name in ['median', 'p90', 'p95'] %}
    {{ round_double('km.released_q' ~ loop.index ~ '_seconds / 3600.0', 4) }} as {{ name }}_hours,
    {%- endfor %}
    {{ trs_stddev_hours() }} as stddev_hours,
    {{ round_double(as_double('g.min_seconds') ~ ' / 3600.0', 4) }} as min_hours,
    {{ round_double(as_double('g.max_seconds') ~ ' / 3600.0', 4) }} as max_hours,
    round(g.within_24h / nullif(g.n_seconds, 0), 6) as within_24h_share,
    round(g.within_48h / nullif(g.n_seconds, 0), 6) as within_48h_share,
    g.outliers,
    -- One target for the whole group, else none (a rollup over modes with different targets).
    case
        when g.with_target = g.declarations and g.min_target_hours = g.max_target_hours then g.min_target_hours
    end as target_hours,
    round(g.within_target / nullif(g.released_with_target, 0), 6) as within_target_share,
    g.still_waiting,
    {{ round_double('km.waiting_age_median_seconds / 3600.0', 4) }} as still_waiting_median_age_hours,
    g.release_not_logged,
    {{ round_double(as_double('km.km_median_seconds') ~ ' / 3600.0', 4) }} as km_median_hours,
    {{ round_double(as_double('km.km_p90_seconds') ~ ' / 3600.0', 4) }} as km_p90_hours,
    {{ targets_version }} as reference_version,
    g.source_refreshed_at
from summed as g
left join km using ({{ group_keys | join(', ') }})
