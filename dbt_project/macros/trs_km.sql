{# Kaplan-Meier, released-only medians and the period rows of the censoring-aware TRS marts
   (docs/trs.md). Portable SQL: window functions, ln/exp, case; no engine-specific aggregate. #}

{# The Kaplan-Meier steps of `relation`, which holds one row per group (`partition`, a list of
   columns) and distinct time `km_seconds`, with `events` (released at that second) and
   `censored` (still waiting, censored at that age). Adds per row:
   - km_base: the group's declarations in the estimate;
   - at_risk: declarations released or censored at or after this second (events before censoring
     at equal times, as is standard: cargo censored at t was still waiting at t);
   - survival: the share not yet released just after this second, 1 - F(t).
   survival = prod over times t_i <= t of (1 - d_i / n_i). Between censorings the product
   telescopes, so survival = (at_risk - events) / km_base x prod over censoring times t_j < t of
   m_j / (m_j - c_j), with m_j = at_risk - events at t_j: the exact ratio of two counts until the
   first censored declaration, and one factor per censoring time after it (summed as logs in time
   order). Rounded to 12 decimals, so an exact tie (two of four released: 0.5) compares exactly. #}
{% macro trs_km_steps(relation, partition) -%}
    {%- set by = partition | join(', ') -%}
    select
        *,
        round(
            cast(at_risk - events as double) / km_base * exp(coalesce(sum(censoring_log) over (
                partition by {{ by }} order by km_seconds rows between unbounded preceding and 1 preceding
            ), 0)),
            12
        ) as survival
    from (
        select
            *,
            case
                when censored > 0 and at_risk - events > censored
                    then ln(at_risk - events) - ln(at_risk - events - censored)
                else 0
            end as censoring_log
        from (
            select
                *,
                sum(events + censored) over (partition by {{ by }}) as km_base,
                sum(events + censored) over (partition by {{ by }}) - coalesce(sum(events + censored) over (
                    partition by {{ by }} order by km_seconds rows between unbounded preceding and 1 preceding
                ), 0) as at_risk
            from {{ relation }}
        ) as counted
    ) as factored
{%- endmacro %}

{# The hour a time in seconds falls in, numbered so that hour h holds ((h - 1) x 3600, h x 3600]:
   a curve mark of h hours (km_seconds <= h x 3600) is an hour's end. #}
{% macro trs_km_hour(seconds) -%}
    cast(ceil({{ seconds }} / 3600.0) as bigint)
{%- endmacro %}

{# `, sum(alias.column) as column` for each of `sums`, then `, max(...)` for each of `maxima`: the
   aggregates of a select list whose grouping is elsewhere. #}
{% macro trs_sums_and_maxima(alias, sums, maxima) -%}
    {%- for column in sums %},
        sum({{ alias }}.{{ column }}) as {{ column }}
    {%- endfor %}
    {%- for column in maxima %},
        max({{ alias }}.{{ column }}) as {{ column }}
    {%- endfor %}
{%- endmacro %}

{# The declarations of `relation` (one row per declaration in its period, with km_seconds and
   is_km_event) counted per period, `columns` (the finest group) and hour (trs_km_hour), except
   in the hours of a period that hold a censored declaration, which keep their seconds. An
   hour's row takes the hour's last second as its time. Grouped further (a rollup, grouping
   sets), these give every group's rows per hour. Counted straight from the declarations: cells
   per second first would be about one per declaration.
   Why this is exact: trs_km_steps over a group's rows gives each row the survival of the seconds
   at its time. Within an hour without censoring the product telescopes (survival = declarations
   still at risk after it / km_base x the factors of the censorings before it), and the counts
   and factors come from sums over all earlier rows, however those are grouped; the hours kept
   per second are a superset of each group's own censored hours. So there are as many steps as
   hours, not seconds, and a quantile is read in two passes: the hour where it is reached
   (trs_hours_reaching), then that hour's seconds (trs_km_row_seconds_in_hours, then
   trs_km_seconds_in_own_hours, which groups each group's own hours the same way, and
   trs_km_hours_opened).
   `aggregates` over the rows `r` (default: events and censored, trs_km_counts); with
   `timed_only` false, the declarations without a time are kept, as one row per group with a
   NULL time. #}
{% macro trs_km_row_hours(relation, columns, aggregates=none, timed_only=true) -%}
    {%- set time = 'case when h.km_hour is not null then r.km_seconds else r.km_hour * 3600 end' -%}
    select
        {%- for column in columns %}
        r.{{ column }},
        {%- endfor %}
        {{ time }} as km_seconds,
        {{ aggregates or trs_km_counts('r') }}
    from (
        select *, {{ trs_km_hour('km_seconds') }} as km_hour
        from {{ relation }}
        {%- if timed_only %}
        where km_seconds is not null
        {%- endif %}
    ) as r
    left join (
        select distinct period_type, period_start, {{ trs_km_hour('km_seconds') }} as km_hour
        from {{ relation }}
        where km_seconds is not null and not coalesce(is_km_event, false)
    ) as h
        on r.period_type = h.period_type and r.period_start = h.period_start and r.km_hour = h.km_hour
    group by
        {%- for column in columns %}
        r.{{ column }},
        {%- endfor %}
        {{ time }}
{%- endmacro %}

{# Released (events) and still waiting (censored) among rows `alias` of declarations; a
   declaration without a time (kept by trs_km_row_hours with `timed_only` false) counts in neither. #}
{% macro trs_km_counts(alias) -%}
    sum(case when {{ alias }}.is_km_event then 1 else 0 end) as events,
        sum(case when {{ alias }}.km_seconds is not null and not {{ alias }}.is_km_event then 1 else 0 end) as censored
{%- endmacro %}

{# The declarations of `relation` (as for trs_km_row_hours) counted per period, `columns` and
   second, in the hours of their period that `hours` lists for some group (a relation with
   period_type, period_start and km_hour). `keys`: columns that every group of `hours` keeps
   (never rolled up to 'ALL'), matched too, so that a declaration is read only in the hours of
   the groups it counts in. `aggregates` as for trs_km_row_hours. #}
{% macro trs_km_row_seconds_in_hours(relation, columns, hours, aggregates=none, keys=[]) -%}
    select
        {%- for column in columns %}
        r.{{ column }},
        {%- endfor %}
        r.km_seconds,
        {{ aggregates or trs_km_counts('r') }}
    from {{ relation }} as r
    {{ semi_join() }} (select distinct period_type, period_start, {% for key in keys %}{{ key }}, {% endfor %}km_hour from {{ hours }}) as h
        on r.period_type = h.period_type and r.period_start = h.period_start
            {%- for key in keys %}
            and r.{{ key }} = h.{{ key }}
            {%- endfor %}
            and {{ trs_km_hour('r.km_seconds') }} = h.km_hour
    where r.km_seconds is not null
    group by
        {%- for column in columns %}
        r.{{ column }},
        {%- endfor %}
        r.km_seconds
{%- endmacro %}

{# The rows of `hourly` (one per group, `partition`, and hour or second, with the sums
   `columns`) with the hours listed in `hours` (the partition columns and km_hour) replaced
   by their seconds, taken from `relation` (the same rows per second). Groups may hold NULLs. #}
{% macro trs_km_hours_opened(hourly, relation, partition, hours, columns=['events', 'censored']) -%}
    {%- set kept = partition + ['km_seconds'] + columns -%}
    {#- One join, each input read once: engines that inline a CTE at each use (Spark) would
        otherwise repeat the steps behind `hours`. #}
    select
        {%- for column in kept %}
        r.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        select {{ kept | join(', ') }}, {{ trs_km_hour('km_seconds') }} as km_hour, 0 as from_seconds
        from {{ hourly }}
        union all
        select {{ kept | join(', ') }}, {{ trs_km_hour('km_seconds') }} as km_hour, 1 as from_seconds
        from {{ relation }}
    ) as r
    left join (select distinct {{ partition | join(', ') }}, km_hour from {{ hours }}) as o
        on {% for column in partition %}{{ null_safe_equal('r.' ~ column, 'o.' ~ column) }} and {% endfor -%}
            r.km_hour = o.km_hour
    where r.from_seconds = case when o.km_hour is null then 0 else 1 end
{%- endmacro %}

{# The second pass of a quantile read per hour: the rows of `relation` (per second, before the
   grouping) summed per group and second for each grouping set of `sets` (pairs of the set's name
   and the `rollable` columns it keeps; the others read 'ALL'), each group only in the hours that
   `hours` (trs_hours_reaching) lists for it. The rows of all the hours where some group's quantile
   lies, grouped whole, would sum mostly seconds that no group needs. `keys` are never rolled up;
   `set_column`, if given, names a column holding the set's name. #}
{% macro trs_km_seconds_in_own_hours(relation, hours, keys, rollable, sets, sums, maxima=[], set_column=none) -%}
    {%- for name, kept in sets %}
    {%- set by = keys + kept %}
    select
        {%- for column in keys %}
        r.{{ column }},
        {%- endfor %}
        {%- for column in rollable %}
        {{ 'r.' ~ column if column in kept else "'ALL'" }} as {{ column }},
        {%- endfor %}
        {%- if set_column %}
        '{{ name }}' as {{ set_column }},
        {%- endif %}
        r.km_seconds
        {{- trs_sums_and_maxima('r', sums, maxima) }}
    from {{ relation }} as r
    {{ semi_join() }} (
        select distinct {{ by | join(', ') }}, km_hour
        from {{ hours }}
        {%- for column in rollable %}
        {{ 'where' if loop.first else '  and' }} {{ 'not ' if column in kept }}({{ null_safe_equal(column, "'ALL'") }})
        {%- endfor %}
    ) as h
        on {% for column in by %}{{ null_safe_equal('r.' ~ column, 'h.' ~ column) }} and {% endfor -%}
            {{ trs_km_hour('r.km_seconds') }} = h.km_hour
    group by {% for column in by %}r.{{ column }}, {% endfor %}r.km_seconds
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{# `relation` (rows per group, `partition`, and time km_seconds, as for trs_km_steps) with, for
   each of `columns`, its running sum through each row's time (<column>_through) and its group's
   total (<column>_total): the ranks an order statistic is read at (trs_rank_reached,
   trs_interpolated_quantile_seconds). #}
{% macro trs_counts_through(relation, partition, columns=['events', 'censored']) -%}
    {%- set by = partition | join(', ') -%}
    select
        *
        {%- for column in columns %},
        sum({{ column }}) over (
            partition by {{ by }} order by km_seconds rows between unbounded preceding and current row
        ) as {{ column }}_through,
        sum({{ column }}) over (partition by {{ by }}) as {{ column }}_total
        {%- endfor %}
    from {{ relation }}
{%- endmacro %}

{# The position of the interpolated quantile `share` among `total` values, counted from 0, in
   DOUBLE, as DuckDB's quantile_cont takes it: (n - 1) x share. #}
{% macro trs_quantile_position(total, share) -%}
    (cast({{ total }} - 1 as double) * cast({{ share }} as double))
{%- endmacro %}

{# A row of trs_counts_through at which `column` reaches the lower ('floor') or upper ('ceil') of
   the two order statistics the quantile `share` interpolates (1-based ranks floor or ceil of
   the position, plus one): as a condition of trs_hours_reaching, the hours whose seconds the
   quantile needs. #}
{% macro trs_rank_reached(column, share, side) -%}
    {{ column }} > 0 and {{ column }}_through >= {{ side }}({{ trs_quantile_position(column ~ '_total', share) }}) + 1
{%- endmacro %}

{# The interpolated quantile `share` of a group's times, each counted `column` times (an aggregate
   over one group's trs_counts_through rows, per second wherever the two order statistics lie):
   lo x (1 - d) + hi x d in DOUBLE, d the fraction of the position, the same value as DuckDB's
   quantile_cont over the declarations (and exact_quantile on Spark). NULL without a count. #}
{% macro trs_interpolated_quantile_seconds(column, share) -%}
    {%- set position = trs_quantile_position('max(' ~ column ~ '_total)', share) -%}
    {%- set fraction = '(' ~ position ~ ' - floor(' ~ position ~ '))' -%}
    case when max({{ column }}_total) > 0 then
        cast(min(case when {{ trs_rank_reached(column, share, 'floor') }} then km_seconds end) as double) * (1 - {{ fraction }})
        + cast(min(case when {{ trs_rank_reached(column, share, 'ceil') }} then km_seconds end) as double) * {{ fraction }}
    end
{%- endmacro %}

{# Per group (`partition`) of `steps` (trs_km_steps over trs_km_row_hours rows), the hour of the
   first row meeting each of `conditions` (SQL on a step row): the hours whose seconds a
   quantile needs. A row per group and condition met (the same hour may come twice). One pass
   over the steps: engines that inline a CTE at each use (Spark) would repeat it per condition. #}
{% macro trs_hours_reaching(steps, partition, conditions) -%}
    {%- set reached = [] -%}
    {%- for condition in conditions -%}{%- do reached.append('reached_' ~ loop.index) -%}{%- endfor -%}
    {%- set per_group -%}
    (
        select
            {{ partition | join(', ') }}
            {%- for condition in conditions %},
            {{ trs_km_hour('min(case when ' ~ condition ~ ' then km_seconds end)') }} as {{ reached[loop.index0] }}
            {%- endfor %}
        from {{ steps }}
        group by {{ partition | join(', ') }}
    )
    {%- endset -%}
    {{ unpivot_columns(per_group, partition, reached, 'reached_condition', 'km_hour') }}
{%- endmacro %}

{# The Kaplan-Meier quantile (an aggregate over trs_km_steps rows of one group): the smallest
   release time t with F(t) >= share, i.e. survival <= 1 - share; NULL when the curve never
   gets there (too much cargo still waiting). In seconds. #}
{% macro trs_km_quantile_seconds(share) -%}
    min(case when {{ trs_km_reached(share) }} then km_seconds end)
{%- endmacro %}

{# A Kaplan-Meier step at which the curve has reached `share` released. #}
{% macro trs_km_reached(share) -%}
    events > 0 and survival <= {{ (1 - share) | round(12) }}
{%- endmacro %}

{# The median of a histogram (an aggregate over rows of one group ordered by km_seconds, with
   `cumulative` the weight at or below each row's time and `total` the group's weight): the
   smallest time holding half the weight, averaged with the smallest holding more than half.
   With whole counts as weights this is exactly the continuous-quantile median of the values;
   with the weights of a reweighting, their weighted median. The share is rounded to 9 decimals
   before it is compared, so a tie (half the weight exactly) is found although decimal weights
   such as 2/3 are not exact; whole counts below a billion compare exactly. NULL without weight. #}
{% macro trs_histogram_median_seconds(cumulative, total) -%}
    {%- set share = trs_histogram_share(cumulative, total) -%}
    case when max({{ total }}) > 0 then (
        min(case when {{ share }} >= 0.5 then km_seconds end)
        + min(case when {{ share }} > 0.5 then km_seconds end)
    ) / 2.0 end
{%- endmacro %}

{# The share of a histogram's weight at or below a row (trs_histogram_median_seconds). #}
{% macro trs_histogram_share(cumulative, total) -%}
    round(cast({{ cumulative }} as double) / nullif({{ total }}, 0), 9)
{%- endmacro %}

{# The months to recompute besides those with changed declarations, for marts whose rows count
   cargo still waiting: a declaration without a release counts by its age at the data horizon,
   which moves with every load, and turns into "release not logged" once older than the limit.
   So every month holding an unreleased declaration that was still waiting at the last build's
   horizon, or is now, is recomputed: arrival later than the earlier of the two horizons minus
   the limit. The last build's horizon is taken from the declarations unchanged since then (at
   most the true one, so never fewer months). #}
{% macro trs_censoring_months(watermark) -%}
    select distinct date_trunc('month', d.reference_date)
    from {{ ref('int_declaration_milestones') }} as d
    cross join (
        select least(max(case when _refreshed_at <= {{ watermark }} then last_event_at end), max(last_event_at)) as horizon
        from {{ ref('int_declaration_milestones') }}
    ) as h
    where d.arrival_at is not null and d.release_at is null and d.reference_date is not null
        and d.arrival_at > h.horizon - interval '{{ var("trs_still_waiting_limit_hours") }}' hour
{%- endmacro %}

{# A fingerprint of reference rows (a seed), as a SQL scalar: marts that apply a seed store it,
   and recompute every period when it changes (trs_period_rows, `reference`). #}
{% macro reference_fingerprint(relation, columns) -%}
    (
        select {{ md5_of_sorted('row_text') }}
        from (
            select concat_ws('|'{% for c in columns %}, coalesce(cast({{ c }} as {{ string_type() }}), '~'){% endfor %}) as row_text
            from {{ relation }}
        ) as reference_rows
    )
{%- endmacro %}

{# True when the incremental model's rows were computed from other reference rows than
   `fingerprint` (a reference_fingerprint): then every period is recomputed. #}
{% macro reference_changed(fingerprint) -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set stale = run_query("select count(*) from " ~ this ~ " where reference_version is distinct from " ~ fingerprint).columns[0].values()[0] -%}
    {{ return(stale > 0) }}
{%- endmacro %}
