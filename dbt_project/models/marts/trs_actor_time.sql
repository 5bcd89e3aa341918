{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key=['period_type', 'period_start'],
        on_schema_change='fail'
    )
}}
-- Who holds the time (docs/trs.md): per period and group (the grouping sets of
-- trs_release_time) and per responsible party, the hours from arrival to gate-out that the
-- party holds the cargo, from int_trs_party_seconds (the seed trs_party_segments and its
-- overlap rule). Every second goes to exactly one party, so the parties' hours add up to the
-- total and their shares to 1. The periods add up the integer sums of int_trs_party_monthly,
-- so a year is exactly the sum of its months and a night reads months, not declarations.
-- Incremental like trs_release_time; every period is recomputed when the seed changes.
-- noqa: disable=PRS
-- The incremental filter reads the milestones and the month counts (trs_changed_months):
-- depends_on: {{ ref('int_declaration_milestones') }}, {{ ref('int_trs_month_counts') }}
{%- set mapping_version = reference_fingerprint(
    ref('trs_party_segments'), ['segment', 'from_milestone', 'to_milestone', 'party', 'precedence']
) %}

with monthly as {{ inlined_cte(on_incremental=true) }} (
    select *, month_start as reference_date
    from {{ ref('int_trs_party_monthly') }}
),

monthly_in_periods as (
    {{ trs_period_rows('monthly', reference=mapping_version) }}
),

-- The groups' totals are on each of their party rows: once per month and group.
group_months as (
    select distinct
        period_type, period_start, month_start, declaration_type, transport_mode, channel,
        customs_office, declarations, total_seconds, source_refreshed_at
    from monthly_in_periods
),

totals as (
    select
        {{ trs_group_columns() }},
        cast(sum(declarations) as bigint) as declarations,
        sum(total_seconds) as total_seconds,
        max(source_refreshed_at) as source_refreshed_at
    from group_months
    group by {{ trs_grouping_sets() }}
),

party_totals as (
    select
        {{ trs_group_columns() }},
        party,
        sum(party_seconds) as party_seconds
    from monthly_in_periods
    group by {{ trs_grouping_sets(extra=['party']) }}
),

parties as (
    select distinct party from {{ ref('trs_party_segments') }}
    union
    select 'unattributed'
)

select
    t.period_type,
    t.period_start,
    t.declaration_type,
    t.transport_mode,
    t.channel,
    t.customs_office,
    t.grouping_set,
    p.party,
    t.declarations,
    round(coalesce(pt.party_seconds, 0) / t.declarations / 3600.0, 4) as hours,
    round(t.total_seconds / t.declarations / 3600.0, 4) as total_hours,
    round(coalesce(pt.party_seconds, 0) / cast(t.total_seconds as double), 6) as share,
    {{ mapping_version }} as reference_version,
    t.source_refreshed_at
from totals as t
cross join parties as p
left join party_totals as pt
    on t.period_type = pt.period_type and t.period_start = pt.period_start
        and t.declaration_type = pt.declaration_type and t.transport_mode = pt.transport_mode
        and t.channel = pt.channel and t.customs_office = pt.customs_office and p.party = pt.party
