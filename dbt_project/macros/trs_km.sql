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

{# The Kaplan-Meier quantile (an aggregate over trs_km_steps rows of one group): the smallest
   release time t with F(t) >= share, i.e. survival <= 1 - share; NULL when the curve never
   gets there (too much cargo still waiting). In seconds. #}
{% macro trs_km_quantile_seconds(share) -%}
    min(case when events > 0 and survival <= {{ (1 - share) | round(12) }} then km_seconds end)
{%- endmacro %}

{# The median of a histogram (an aggregate over rows of one group ordered by km_seconds, with
   `cumulative` the weight at or below each row's time and `total` the group's weight): the
   smallest time holding half the weight, averaged with the smallest holding more than half.
   With whole counts as weights this is exactly the continuous-quantile median of the values;
   with the weights of a reweighting, their weighted median. The share is rounded to 9 decimals
   before it is compared, so a tie (half the weight exactly) is found although decimal weights
   such as 2/3 are not exact; whole counts below a billion compare exactly. NULL without weight. #}
{% macro trs_histogram_median_seconds(cumulative, total) -%}
    {%- set share = "round(cast(" ~ cumulative ~ " as double) / nullif(" ~ total ~ ", 0), 9)" -%}
    case when max({{ total }}) > 0 then (
        min(case when {{ share }} >= 0.5 then km_seconds end)
        + min(case when {{ share }} > 0.5 then km_seconds end)
    ) / 2.0 end
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
