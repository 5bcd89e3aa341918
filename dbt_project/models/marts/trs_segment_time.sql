{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['period_type', 'period_start'],
        on_schema_change='fail'
    )
}}
-- Time Release Study by segment: the time between consecutive milestones, for the same
-- periods and groups as trs_release_time. A declaration counts in a segment when both of its
-- milestones are logged; negative values (pre-arrival lodgement) are kept.

with declarations as (
    select * from {{ ref('int_declaration_milestones') }}
    where reference_date is not null
),

segments as (
    select d.*, s.segment, s.segment_order, s.hours
    from declarations as d
    cross join lateral (
        values
            ('arrival_to_lodgement', 1, d.arrival_to_lodgement_hours),
            ('lodgement_to_acceptance', 2, d.lodgement_to_acceptance_hours),
            ('acceptance_to_release', 3, d.acceptance_to_release_hours),
            ('release_to_gate_out', 4, d.release_to_gate_out_hours),
            ('inspection', 5, d.inspection_hours),
            ('arrival_to_release', 6, d.release_hours)
    ) as s(segment, segment_order, hours)
    where s.hours is not null
),

in_periods as (
    {{ trs_period_rows('segments') }}
)

select
    period_type,
    period_start,
    segment,
    min(segment_order) as segment_order,
    {{ rollup_dim('declaration_type') }} as declaration_type,
    {{ rollup_dim('transport_mode') }} as transport_mode,
    {{ rollup_dim('channel') }} as channel,
    {{ rollup_dim('customs_office') }} as customs_office,
    {{ trs_grouping_set_name() }} as grouping_set,
    count(*) as declarations,
    round(avg(hours order by hours), 4) as mean_hours,  -- fixed order: re-runs round alike
    round(quantile_cont(hours, 0.5), 4) as median_hours,
    round(quantile_cont(hours, 0.9), 4) as p90_hours,
    count(*) filter (where hours < 0) as negative_count,
    max(_refreshed_at) as source_refreshed_at
from in_periods
group by {{ trs_grouping_sets(['segment']) }}
