{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='delete+insert',
        unique_key='declaration_id',
        on_schema_change='fail'
    )
}}
-- Who holds the time, per declaration (docs/trs.md, "Who holds the time"): the seconds from
-- arrival to gate-out that each party holds the cargo, for trs_actor_time. The segments and
-- their parties are the seed trs_party_segments. Overlap rule: every second between arrival and
-- gate-out goes to the covering segment with the lowest `precedence`; a second no segment covers
-- goes to 'unattributed'. So a declaration's party seconds add up to its total exactly.
-- Base: arrival, release and gate-out logged, gate-out after arrival.
-- Incremental: only the declarations recomputed in int_declaration_milestones since the last
-- build, and all of them when the seed changed (reference_version).
{%- set milestones = ['arrival', 'lodgement', 'acceptance', 'cs_channel', 'inspection_start', 'inspection_end',
                      'oga_permit', 'payment', 'release', 'gate_out'] %}
{%- set mapping_version = reference_fingerprint(
    ref('trs_party_segments'), ['segment', 'from_milestone', 'to_milestone', 'party', 'precedence']
) %}
{%- set incremental = is_incremental() and not reference_changed(mapping_version) %}

with declarations as (
    select
        declaration_id,
        declaration_type,
        transport_mode,
        channel,
        customs_office,
        reference_date,
        _refreshed_at,
        {%- for milestone in milestones %}
        {{ whole_seconds(hours_between('arrival_at', milestone ~ '_at')) }} as {{ milestone }}_offset,
        {%- endfor %}
        {{ whole_seconds(hours_between('arrival_at', 'gate_out_at')) }} as total_seconds
    from {{ ref('int_declaration_milestones') }}
    where reference_date is not null
        {%- if incremental %}
        and _refreshed_at > {{ watermark_literal(this, '_refreshed_at') }}
        {%- endif %}
),

in_base as (
    select * from declarations
    where arrival_offset = 0 and release_offset is not null and total_seconds > 0
),

-- Seconds after arrival of every milestone logged.
milestone_offsets as (
    {%- for milestone in milestones %}
    select declaration_id, '{{ milestone }}' as milestone, {{ milestone }}_offset as at_offset, total_seconds
    from in_base
    where {{ milestone }}_offset is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- The seed's segments of each declaration, clipped to arrival .. gate-out.
segments as (
    select
        f.declaration_id,
        s.segment,
        s.party,
        s.precedence,
        greatest(f.at_offset, 0) as from_offset,
        least(t.at_offset, f.total_seconds) as to_offset
    from {{ ref('trs_party_segments') }} as s
    inner join milestone_offsets as f on s.from_milestone = f.milestone
    inner join milestone_offsets as t on f.declaration_id = t.declaration_id and s.to_milestone = t.milestone
    where least(t.at_offset, f.total_seconds) > greatest(f.at_offset, 0)
),

-- Arrival, gate-out and every segment's ends cut the timeline into pieces.
cuts as (
    select declaration_id, 0 as at_offset from in_base
    union
    select declaration_id, total_seconds from in_base
    union
    select declaration_id, from_offset from segments
    union
    select declaration_id, to_offset from segments
),

pieces as (
    select
        declaration_id,
        at_offset as from_offset,
        lead(at_offset) over (partition by declaration_id order by at_offset) as to_offset
    from cuts
),

-- Each piece to the covering segment of lowest precedence, or to 'unattributed'.
attributed as (
    select
        p.declaration_id,
        p.to_offset - p.from_offset as seconds,
        coalesce(s.party, 'unattributed') as party,
        row_number() over (
            partition by p.declaration_id, p.from_offset order by s.precedence, s.segment
        ) as pick
    from pieces as p
    left join segments as s
        on p.declaration_id = s.declaration_id
            and s.from_offset <= p.from_offset and s.to_offset >= p.to_offset
    where p.to_offset is not null
),

party_seconds as (
    select
        declaration_id,
        party,
        sum(seconds) as seconds
    from attributed
    where pick = 1
    group by declaration_id, party
)

-- Every declaration this build recomputes has a row, those outside the base one with no party,
-- so that delete+insert also clears the rows of a declaration that left the base.
select
    d.declaration_id,
    d.declaration_type,
    d.transport_mode,
    d.channel,
    d.customs_office,
    d.reference_date,
    p.party,
    coalesce(p.seconds, 0) as seconds,
    case when p.party is not null then d.total_seconds end as total_seconds,
    {{ mapping_version }} as reference_version,
    d._refreshed_at
from declarations as d
left join party_seconds as p on d.declaration_id = p.declaration_id
