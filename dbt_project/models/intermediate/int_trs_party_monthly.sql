{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='month_start',
        on_schema_change='fail'
    )
}}
-- Who holds the time, per month (docs/trs.md, "Who holds the time"): the exact integer sums of
-- int_trs_party_seconds per month of reference date, finest group (type, mode, channel, office)
-- and party. trs_actor_time adds them up into its months and years, so a year is the sum of its
-- months to the last second and a night reads the months it changed, not every declaration of
-- the year. Incremental: the months with declarations recomputed since the last build
-- (trs_changed_month_list), and all of them when the seed changed (reference_version).
-- The incremental filter reads the milestones and the month counts (trs_changed_months):
-- depends_on: {{ ref('int_trs_month_counts') }}
{%- set group_columns = ['month_start', 'declaration_type', 'transport_mode', 'channel', 'customs_office'] %}
{%- set mapping_version = reference_fingerprint(
    ref('trs_party_segments'), ['segment', 'from_milestone', 'to_milestone', 'party', 'precedence']
) %}

{%- set in_changed_months = trs_in_periods('reference_date', trs_changed_month_list(), 'month')
    if trs_incremental(mapping_version) else none %}

-- The declarations in the base (those int_trs_party_seconds gives time of a party), read from the
-- milestones as int_trs_party_seconds reads them, one row a declaration: counted from its party
-- rows, they needed a DISTINCT over every one of them (40.7 million at a year).
with declarations as (
    select
        cast(date_trunc('month', d.reference_date) as date) as month_start,
        d.*
    from ({{ trs_party_declarations(ref('int_declaration_milestones'), in_changed_months) }}) as d
    where {{ trs_party_in_base('d') }}
),

party_seconds as (
    select
        cast(date_trunc('month', reference_date) as date) as month_start,
        declaration_type,
        transport_mode,
        channel,
        customs_office,
        party,
        seconds
    from {{ ref('int_trs_party_seconds') }}
    where party is not null
        {%- if in_changed_months %}
        and {{ in_changed_months }}
        {%- endif %}
),

-- The declarations of each month and group: how many, their arrival to gate-out seconds.
group_totals as (
    select
        {{ group_columns | join(', ') }},
        count(*) as declarations,
        sum(cast(total_seconds as bigint)) as total_seconds,
        max(_refreshed_at) as source_refreshed_at
    from declarations
    group by {{ group_columns | join(', ') }}
),

party_totals as (
    select
        {{ group_columns | join(', ') }},
        party,
        sum(cast(seconds as bigint)) as party_seconds
    from party_seconds
    group by {{ group_columns | join(', ') }}, party
)

-- The group's totals on each of its party rows (every declaration in the base has time of at
-- least one party, so every group has a row).
select
    {%- for column in group_columns %}
    p.{{ column }},
    {%- endfor %}
    p.party,
    p.party_seconds,
    g.declarations,
    g.total_seconds,
    {{ mapping_version }} as reference_version,
    g.source_refreshed_at
from party_totals as p
inner join group_totals as g using ({{ group_columns | join(', ') }})
