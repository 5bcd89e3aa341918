{# Hours between two timestamps (negative when `to_ts` is earlier, e.g. pre-arrival lodgement). #}
{% macro hours_between(from_ts, to_ts) -%}
    ({{ epoch_seconds(to_ts) }} - {{ epoch_seconds(from_ts) }}) / 3600.0
{%- endmacro %}

{# Whole seconds of an hours column. Every duration is a difference of timestamps logged to the
   second, so the statistics are computed on integers: sums are exact and the same on every run
   whatever the row order (no sorted aggregate needed), and a percentile holds 4 bytes a value.
   DuckDB keeps every value of an exact percentile in memory and does not spill it. #}
{% macro whole_seconds(hours) -%}
    cast(round({{ hours }} * 3600) as integer)
{%- endmacro %}

{# The aggregates behind mean, standard deviation and percentiles of `seconds`, which
   trs_mean_hours, trs_stddev_hours and trs_quantile_hours turn into hours. #}
{% macro trs_seconds_aggregates(seconds, quantiles) -%}
    {{ trs_seconds_sums(seconds) }},
    {{ exact_quantile(seconds, quantiles) }} as quantile_seconds
{%- endmacro %}

{# The exact integer aggregates alone (n_seconds, sum_seconds, sum_squared_seconds): they add up
   from finer groups, as trs_release_time does. #}
{% macro trs_seconds_sums(seconds) -%}
    count({{ seconds }}) as n_seconds,
    sum({{ seconds }}) as sum_seconds,
    sum(cast({{ seconds }} as {{ big_integer_type() }}) * {{ seconds }}) as sum_squared_seconds
{%- endmacro %}

{# Hours from trs_seconds_aggregates: the mean, and the sample standard deviation from exact
   integer sums, rounded to 4 decimals (0.36 s). #}
{% macro trs_mean_hours() -%}
    {{ round_double('sum_seconds / nullif(n_seconds, 0) / 3600.0', 4) }}
{%- endmacro %}

{% macro trs_stddev_hours() -%}{{ return(adapter.dispatch('trs_stddev_hours')()) }}{%- endmacro %}

{% macro default__trs_stddev_hours() -%}
    round(sqrt((n_seconds * sum_squared_seconds - sum_seconds * sum_seconds)
               / nullif(n_seconds * (n_seconds - 1), 0)) / 3600.0, 4)
{%- endmacro %}

{# Spark's sums of integers are BIGINT, whose products overflow silently: exact DECIMAL(38, 0)
   until the one division of doubles, as DuckDB's HUGEINT. #}
{% macro spark__trs_stddev_hours() -%}
    {{ spark__round_double('sqrt(cast(cast(n_seconds as decimal(38, 0)) * sum_squared_seconds
                    - cast(sum_seconds as decimal(38, 0)) * sum_seconds as double)
               / cast(nullif(n_seconds * (n_seconds - 1), 0) as double)) / 3600.0', 4) }}
{%- endmacro %}

{% macro trs_quantile_hours(position) -%}
    {{ round_double(list_item('quantile_seconds', position) ~ ' / 3600.0', 4) }}
{%- endmacro %}

{# The TRS grouping sets shared by the release-time and segment marts. `extra` is prepended to
   every set (e.g. the segment). #}
{% macro trs_grouping_sets(extra=[]) -%}
    {%- set head = ['period_type', 'period_start'] + extra -%}
    grouping sets (
        {%- for name, kept in trs_dimension_sets() %}
        ({{ (head + kept) | join(', ') }}){{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{# The TRS grouping sets: each set's name (trs_grouping_set_name) and the dimensions it keeps. #}
{% macro trs_dimension_sets() -%}
    {{ return([
        ('period', []),
        ('period+type', ['declaration_type']),
        ('period+type+mode', ['declaration_type', 'transport_mode']),
        ('period+type+mode+channel', ['declaration_type', 'transport_mode', 'channel']),
        ('period+type+mode+office', ['declaration_type', 'transport_mode', 'customs_office']),
    ]) }}
{%- endmacro %}

{# The finest TRS group in its period: type, mode, channel, office. #}
{% macro trs_km_cell_columns() -%}
    {{ return(['period_type', 'period_start', 'declaration_type', 'transport_mode', 'channel', 'customs_office']) }}
{%- endmacro %}

{# The TRS groups' Kaplan-Meier rows per hour (or second in the hours holding a censored
   declaration) from timed cells (trs_period_cell_rows), regrouped into the TRS grouping sets. #}
{% macro trs_km_group_hours(cells) -%}
    select
        {{ trs_group_columns() }},
        km_seconds,
        sum(events) as events,
        sum(censored) as censored
    from {{ cells }}
    group by {{ trs_grouping_sets(extra=['km_seconds']) }}
{%- endmacro %}

{# Dimension value of a grouped row: 'ALL' where the set rolls the dimension up. #}
{% macro rollup_dim(column) -%}
    case when grouping({{ column }}) = 1 then 'ALL' else {{ column }} end
{%- endmacro %}

{# The columns that name a TRS row: period, dimensions ('ALL' where rolled up), grouping set. #}
{% macro trs_group_columns() -%}
        period_type,
        period_start,
        {{ rollup_dim('declaration_type') }} as declaration_type,
        {{ rollup_dim('transport_mode') }} as transport_mode,
        {{ rollup_dim('channel') }} as channel,
        {{ rollup_dim('customs_office') }} as customs_office,
        {{ trs_grouping_set_name() }} as grouping_set
{%- endmacro %}

{% macro trs_grouping_set_name() -%}
    case
        when grouping(declaration_type) = 1 then 'period'
        when grouping(transport_mode) = 1 then 'period+type'
        when grouping(channel) = 0 then 'period+type+mode+channel'
        when grouping(customs_office) = 0 then 'period+type+mode+office'
        else 'period+type+mode'
    end
{%- endmacro %}

{# The rows of `relation` (one per declaration, or per declaration and segment) placed in their
   month and in their year. On an incremental run only the months and years that received
   declarations recomputed since this mart was last built, whose old rows delete+insert
   replaces whole; on a full build, every period.
   `censoring`: the mart counts cargo still waiting, so the months whose censoring the moving
   data horizon changes are recomputed too (trs_censoring_months). `reference`: a
   reference_fingerprint of the seed the mart applies, stored in its reference_version column;
   when the seed changed since, every period is recomputed.
   How `relation` is read, and what a CTE given as `relation` needs: trs_rows_in_months. #}
{% macro trs_period_rows(relation, censoring=false, reference=none) -%}
    {{ trs_rows_in_months(relation, trs_recomputed_months(censoring, reference)) }}
{%- endmacro %}

{# The months this build of a TRS mart recomputes, as trs_period_rows takes them: none on a full
   build (every period), else the sorted list of trs_changed_month_list. #}
{% macro trs_recomputed_months(censoring=false, reference=none) -%}
    {{ return(trs_changed_month_list(censoring) if trs_incremental(reference) else none) }}
{%- endmacro %}

{# The rows of `relation` in their periods: on a full build (`months` none) every period, in one
   scan (rows_in_their_periods); else the months of `months` and their years, one filtered read
   for each kind of period. Crossed with both kinds before the filter, a night's rows were every
   row of its years twice, each with its dates truncated again: 32 million rows for the 16
   million of a year, a second of a night's trs_release_time (docs/performance.md).
   Read twice on a night, a CTE given as `relation` is declared with
   inlined_cte(on_incremental=true), or DuckDB would materialize every row of it, the whole
   history, before the periods' filters. #}
{% macro trs_rows_in_months(relation, months) -%}
    {%- if months is none -%}
    {{ rows_in_their_periods(relation) }}
    {%- else -%}
    {%- for part in ['month', 'year'] %}
    select
        '{{ part }}' as period_type,
        cast(date_trunc('{{ part }}', r.reference_date) as date) as period_start,
        r.*
    from {{ relation }} as r
    where {{ trs_in_periods('r.reference_date', months, part) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endif %}
{%- endmacro %}

{# The cells of int_trs_period_cells: a finest TRS group with the cohort features, in its period. #}
{% macro trs_period_cell_columns() -%}
    {{ return(trs_km_cell_columns() + ['is_aeo', 'is_pre_arrival', 'is_oga_required']) }}
{%- endmacro %}

{# The measures of int_trs_period_cells, in its column order: each column's aggregate over
   declarations `r`, and the aggregate that adds up rows of it (a year's from its months', `{}`
   the column), counts kept BIGINT. #}
{% macro trs_period_cell_measures() -%}
    {{ return([
        ('declarations', 'count(*)', 'cast(sum({}) as bigint)'),
        ('n_seconds', 'count(r.release_seconds)', 'cast(sum({}) as bigint)'),
        ('sum_seconds', 'sum(r.release_seconds)', 'sum({})'),
        ('sum_squared_seconds', 'sum(cast(r.release_seconds as ' ~ big_integer_type() ~ ') * r.release_seconds)', 'sum({})'),
        ('min_seconds', 'min(r.release_seconds)', 'min({})'),
        ('max_seconds', 'max(r.release_seconds)', 'max({})'),
        ('within_24h', 'count(*) filter (where r.release_seconds <= 24 * 3600)', 'cast(sum({}) as bigint)'),
        ('within_48h', 'count(*) filter (where r.release_seconds <= 48 * 3600)', 'cast(sum({}) as bigint)'),
        ('outliers', 'count(*) filter (where r.is_outlier)', 'cast(sum({}) as bigint)'),
        ('still_waiting', "count(*) filter (where r.outcome = 'still_waiting')", 'cast(sum({}) as bigint)'),
        ('release_not_logged', "count(*) filter (where r.outcome = 'release_not_logged')", 'cast(sum({}) as bigint)'),
        ('with_target', 'count(r.target_hours)', 'cast(sum({}) as bigint)'),
        ('min_target_hours', 'min(r.target_hours)', 'min({})'),
        ('max_target_hours', 'max(r.target_hours)', 'max({})'),
        ('released_with_target', 'count(r.is_within_target)', 'cast(sum({}) as bigint)'),
        ('within_target', 'count(*) filter (where r.is_within_target)', 'cast(sum({}) as bigint)'),
        ('events', 'sum(case when r.is_km_event then 1 else 0 end)', 'sum({})'),
        ('censored', 'sum(case when r.km_seconds is not null and not r.is_km_event then 1 else 0 end)', 'sum({})'),
        ('source_refreshed_at', 'max(r._refreshed_at)', 'max({})'),
        ('events_refreshed_at', 'max(case when r.is_km_event then r._refreshed_at end)', 'max({})'),
    ]) }}
{%- endmacro %}

{# int_trs_period_cells' rows from `relation` (declarations of int_trs_release_outcomes in their
   periods): per period, cell and Kaplan-Meier time (trs_km_row_hours, the declarations without
   a time in a row of their own), the counts, exact integer sums and extremes the TRS marts add
   up (trs_period_cell_measures). #}
{% macro trs_period_cell_rows(relation) -%}
    {%- set aggregates = [] -%}
    {%- for name, aggregate, regroup in trs_period_cell_measures() -%}
        {%- do aggregates.append(aggregate ~ ' as ' ~ name) -%}
    {%- endfor -%}
    {{ trs_km_row_hours(relation, trs_period_cell_columns(), aggregates=aggregates | join(',\n        '), timed_only=false) }}
{%- endmacro %}

{# The hours of each year holding a censored declaration (cargo still waiting), from the rows of
   int_trs_period_cells `months` (every month of the years wanted): the hours a year keeps per
   second (trs_km_row_hours). #}
{% macro trs_censored_year_hours(months) -%}
    select distinct
        cast(date_trunc('year', period_start) as date) as period_start,
        {{ trs_km_hour('km_seconds') }} as km_hour
    from {{ months }}
    where censored > 0
{%- endmacro %}

{# The rows of int_trs_period_cells `months` added up per year, cell and time, outside the hours
   of `censored_hours` (trs_censored_year_hours): a year's rows there, per hour, are its months'.
   In those hours a month keeps the seconds of its own censored hours only, so the year's rows
   there are counted from its declarations (trs_period_cell_rows). #}
{% macro trs_year_cells_from_months(months, censored_hours) -%}
    {%- set cells = trs_period_cell_columns()[2:] -%}
    {%- set year_start = "cast(date_trunc('year', m.period_start) as date)" -%}
    select
        'year' as period_type,
        {{ year_start }} as period_start,
        {%- for column in cells %}
        m.{{ column }},
        {%- endfor %}
        m.km_seconds
        {%- for name, aggregate, regroup in trs_period_cell_measures() %},
        {{ regroup.format('m.' ~ name) }} as {{ name }}
        {%- endfor %}
    from {{ months }} as m
    {{ anti_join() }} {{ censored_hours }} as h
        on {{ year_start }} = h.period_start and {{ trs_km_hour('m.km_seconds') }} = h.km_hour
    group by {{ year_start }}, m.{{ cells | join(', m.') }}, m.km_seconds
{%- endmacro %}

{# Whether the censoring-aware TRS marts read their cells from int_trs_period_cells (always in a
   build) or count them from their own period rows with trs_period_cell_rows, the same macro as
   the model: the marts' dbt unit tests, which give declarations, override it to false. #}
{% macro trs_cells_from_model() -%}
    {{ return(true) }}
{%- endmacro %}

{# The rows of `cells` (int_trs_period_cells, one per period, cell and time) of the periods of
   `months`, as trs_rows_in_months places declarations: all on a full build (`months` none). #}
{% macro trs_cells_in_months(cells, months) -%}
    select * from {{ cells }}
    {%- if months is not none %}
    where {{ trs_periods_of_months(months) }}
    {%- endif %}
{%- endmacro %}

{# A condition on a relation's period_type and period_start: one of the months of `months` or
   one of their years. The range on period_start comes first, for DuckDB to skip the row groups of
   other periods in a table written in period order (int_trs_period_cells). #}
{% macro trs_periods_of_months(months) -%}
    {%- if months %}
    period_start >= cast('{{ trs_years_of(months) | min }}' as date) and period_start <= cast('{{ months | max }}' as date) and (
    {%- endif %}
    (period_type = 'month' and period_start in ({{ trs_date_literals(months) }}))
        or (period_type = 'year' and period_start in ({{ trs_date_literals(trs_years_of(months)) }}))
    {%- if months %}){% endif %}
{%- endmacro %}

{# The pre-hook of a model of rows per period and more than one key besides (int_trs_period_cells):
   on an incremental build, its rows of the periods it computes again (trs_recomputed_months),
   deleted before the new ones are appended; delete+insert on the period alone would join every
   old row of a period to every new one. #}
{% macro trs_delete_recomputed_periods(censoring=false, reference=none) -%}
    {%- if is_incremental() -%}
    {%- set months = trs_recomputed_months(censoring, reference) -%}
    delete from {{ this }}
    {%- if months is not none %} where {{ trs_periods_of_months(months) }}{% endif %}
    {%- endif -%}
{%- endmacro %}

{# The fingerprint of trs_targets (reference_fingerprint) that the marts applying it store. #}
{% macro trs_targets_version() -%}
    {{ return(reference_fingerprint(
        ref('trs_targets'), ['transport_mode', 'declaration_type', 'target_hours', 'valid_from', 'valid_to']
    )) }}
{%- endmacro %}

{# The first days of the years of `months` (dates 'YYYY-MM-DD'), each once. #}
{% macro trs_years_of(months) -%}
    {%- set years = [] -%}
    {%- for month in months -%}
        {%- set year = month[:4] ~ '-01-01' -%}
        {%- if year not in years %}{% do years.append(year) %}{% endif -%}
    {%- endfor -%}
    {{ return(years) }}
{%- endmacro %}

{# Dates ('YYYY-MM-DD') as SQL date literals separated by commas; none gives a NULL, which no
   date equals. #}
{% macro trs_date_literals(dates) -%}
    {%- for day in dates %}cast('{{ day }}' as date){{ ', ' if not loop.last }}{% endfor -%}
    {%- if not dates %}cast(null as date){% endif -%}
{%- endmacro %}

{# Every row of `relation` twice, as `r`: in its month and in its year (period_type and
   period_start, from the date `date_column`), beside the period `p`. One scan for both periods;
   the caller's `where` filters the periods (cs_period_rows; trs_rows_in_months on a full build). #}
{% macro rows_in_their_periods(relation, date_column='reference_date') -%}
    select
        p.period_type,
        cast(case
            when p.period_type = 'month' then date_trunc('month', r.{{ date_column }})
            else date_trunc('year', r.{{ date_column }})
        end as date) as period_start,
        r.*
    from {{ relation }} as r
    cross join (select 'month' as period_type union all select 'year' as period_type) as p
{%- endmacro %}

{# Whether this build of a TRS mart recomputes only some periods (trs_period_rows): an
   incremental run whose reference rows, if any, are the ones its rows were computed from. #}
{% macro trs_incremental(reference=none) -%}
    {{ return(is_incremental() and not (reference is not none and reference_changed(reference))) }}
{%- endmacro %}

{# The months an incremental run recomputes (trs_period_rows), as a query of one column: those of
   the declarations changed since this model's watermark, as they are now, and the months whose
   count changed since (int_trs_month_counts), which a correction moved a declaration out of.
   Every model that calls it says `-- depends_on: {{ ref('int_trs_month_counts') }}`: dbt sees a
   ref only where it renders on a parse, and this renders only on an incremental run. #}
{% macro trs_changed_months(censoring=false) -%}
    {%- set watermark = watermark_literal(this, 'source_refreshed_at') -%}
    {%- set months -%}
        select distinct date_trunc('month', reference_date)
        from {{ ref('int_declaration_milestones') }}
        where _refreshed_at > {{ watermark }}
          and reference_date is not null
        union
        select month_start
        from {{ ref('int_trs_month_counts') }}
        where count_changed_through > {{ watermark }}
        {%- if censoring %}
        union
        {{ trs_censoring_months(watermark) }}
        {%- endif %}
    {%- endset -%}
    {{ return(months) }}
{%- endmacro %}

{# The months of trs_changed_months as a sorted list of dates ('YYYY-MM-DD'), read when the model
   compiles: a filter on literals lets DuckDB skip the row groups of earlier dates by their
   min/max (trs_in_periods), which a subquery does not, so a night reads its periods' rows and
   not the whole history. #}
{% macro trs_changed_month_list(censoring=false) -%}
    {{ return(month_list(trs_changed_months(censoring))) }}
{%- endmacro %}

{# The months of the days or months a one-column query returns, as a sorted list of dates
   ('YYYY-MM-DD') read when the model compiles (trs_changed_month_list, cs_changed_month_list);
   nulls left out. #}
{% macro month_list(query) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set months -%}
        select distinct cast(cast(date_trunc('month', d) as date) as {{ string_type() }})
        from ({{ query }}) as c(d)
        where d is not null
        order by 1
    {%- endset -%}
    {{ return(run_query(months).columns[0].values() | list) }}
{%- endmacro %}

{# A condition on the date `column`: in one of the `part` ('month' or 'year') periods of
   `months` (trs_changed_month_list). The range on the column itself comes first, for DuckDB to
   prune by (both ends: a night reads its base year's rows, the year before the others); no
   months, no rows. #}
{% macro trs_in_periods(column, months, part) -%}
    {%- set starts = months | unique | list if part == 'month' else trs_years_of(months) -%}
    {%- if starts -%}
    {%- set last = starts | max -%}
    {%- set year, month = last[:4] | int, last[5:7] | int -%}
    {%- if part == 'year' or month == 12 -%}
    {%- set end = '%04d-01-01' | format(year + 1) -%}
    {%- else -%}
    {%- set end = '%04d-%02d-01' | format(year, month + 1) -%}
    {%- endif -%}
    {{ column }} >= cast('{{ starts | min }}' as date) and {{ column }} < cast('{{ end }}' as date)
        and date_trunc('{{ part }}', {{ column }}) in ({{ trs_date_literals(starts) }})
    {%- else -%}
    1 = 0
    {%- endif -%}
{%- endmacro %}

{# A condition on the date `column`: in one of `years` (whole numbers), as trs_in_periods. #}
{% macro trs_in_years(column, years) -%}
    {%- set months = [] -%}
    {%- for year in years | sort %}{% do months.append(year ~ '-01-01') %}{% endfor -%}
    {{ trs_in_periods(column, months, 'year') }}
{%- endmacro %}

{# The TRS segments, in order along the clearance process: name -> duration column of
   int_declaration_milestones. One model per segment (models/intermediate/trs/) computes its
   statistics, so that a full rebuild holds one segment's values in memory at a time;
   trs_segment_time puts them together. #}
{% macro trs_segments() -%}
    {{ return({
        'arrival_to_lodgement': 'arrival_to_lodgement_hours',
        'lodgement_to_acceptance': 'lodgement_to_acceptance_hours',
        'acceptance_to_release': 'acceptance_to_release_hours',
        'release_to_gate_out': 'release_to_gate_out_hours',
        'inspection': 'inspection_hours',
        'arrival_to_release': 'release_hours',
    }) }}
{%- endmacro %}

{# The statistics of one segment (a model of models/intermediate/trs/): the same periods,
   groups and rules as trs_release_time, over the declarations that logged both milestones of
   the segment; negative values (pre-arrival lodgement) are kept and counted. #}
{% macro trs_segment_statistics(segment) -%}
{%- set segments = trs_segments() -%}
{%- if segment not in segments -%}
    {{ exceptions.raise_compiler_error("unknown TRS segment " ~ segment) }}
{%- endif -%}
{%- set hours = segments[segment] -%}
-- The incremental filter reads the month counts (trs_changed_months):
-- depends_on: {{ ref('int_trs_month_counts') }}
with declarations as {{ inlined_cte(on_incremental=true) }} (
    select *, {{ whole_seconds(hours) }} as segment_seconds
    from {{ ref('int_declaration_milestones') }}
    where reference_date is not null and {{ hours }} is not null
),

in_periods as (
    {{ trs_period_rows('declarations') }}
),

grouped as (
    select
        {{ trs_group_columns() }},
        count(*) as declarations,
        {{ trs_seconds_aggregates('segment_seconds', [0.5, 0.9]) }},
        count(*) filter (where segment_seconds < 0) as negative_count,
        max(_refreshed_at) as source_refreshed_at
    from in_periods
    group by {{ trs_grouping_sets() }}
)

select
    period_type,
    period_start,
    '{{ segment }}' as segment,
    {{ (segments | list).index(segment) + 1 }} as segment_order,
    declaration_type,
    transport_mode,
    channel,
    customs_office,
    grouping_set,
    declarations,
    {{ trs_mean_hours() }} as mean_hours,
    {{ trs_quantile_hours(1) }} as median_hours,
    {{ trs_quantile_hours(2) }} as p90_hours,
    negative_count,
    source_refreshed_at
from grouped
{%- endmacro %}

{# The rows of `relation` (per year and finest cell: type, mode, channel, office) once per level of
   `levels` (its name, and the type and mode it keeps: a column, or 'ALL'), the cell's own mode as
   cell_mode, with `columns`: trs_median_change_yearly's cells at each grouping level. #}
{% macro trs_cells_at_levels(relation, levels, columns) -%}
    {%- for level, type_column, mode_column in levels %}
    select
        year,
        {{ type_column }} as declaration_type,
        {{ mode_column }} as transport_mode,
        '{{ level }}' as grouping_set,
        transport_mode as cell_mode,
        channel,
        customs_office,
        {{ columns | join(', ') }}
    from {{ relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{# The rows of `relation` (per year, finest cell and time: release_seconds, n, source_refreshed_at)
   at each level of `levels` (trs_cells_at_levels), with their time as km_seconds and their
   like-for-like weight from `weights` (per group, level and cell): weighted_n, n times the weight,
   0 for a cell the base year lacks. An exact decimal, so sums are the same in any order. #}
{% macro trs_weighted_cells(relation, levels, weights, group_keys, cell_keys) -%}
    select
        h.{{ (group_keys + ['grouping_set']) | join(', h.') }},
        h.release_seconds as km_seconds,
        h.n,
        h.n * coalesce(w.weight, 0) as weighted_n,
        h.source_refreshed_at
    from ({{ trs_cells_at_levels(relation, levels, ['release_seconds', 'n', 'source_refreshed_at']) }}) as h
    left join {{ weights }} as w using ({{ (group_keys + ['grouping_set'] + cell_keys) | join(', ') }})
{%- endmacro %}
