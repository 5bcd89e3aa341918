{{
    config(
        materialized=incremental_materialization(),
        incremental_strategy='replace_since_first_load',
        loaded_at_column='_refreshed_at',
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
-- build, and all of them when the seed changed (reference_version). Their old rows are replaced
-- among those refreshed since the declarations' first load (strategy replace_since_first_load):
-- depends_on: {{ ref('stg_clearance__declaration_keys') }}
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

-- The seed's segments, each with a bit of its own, in order of precedence: of the segments
-- covering a second, the one with the lowest bit set takes it.
segment_bits as (
    select
        from_milestone,
        to_milestone,
        party,
        cast(power(2, row_number() over (order by precedence, segment) - 1) as bigint) as bit
    from {{ ref('trs_party_segments') }}
),

-- Every seed segment of every declaration: the seed crossed with the declarations, each end read
-- from the declaration's own milestone columns (no self-join).
segment_ends as (
    select
        d.declaration_id,
        d.total_seconds,
        {%- for end in ['from', 'to'] %}
        case s.{{ end }}_milestone
            {%- for milestone in milestones %}
            when '{{ milestone }}' then d.{{ milestone }}_offset
            {%- endfor %}
        end as {{ end }}_at,
        {%- endfor %}
        s.bit
    from in_base as d
    cross join segment_bits as s
),

-- Clipped to arrival .. gate-out; a segment with an end not logged, or no time after arrival,
-- drops out.
segments as (
    select
        declaration_id,
        bit,
        greatest(from_at, 0) as from_offset,
        least(to_at, total_seconds) as to_offset
    from segment_ends
    where from_at is not null and to_at is not null and least(to_at, total_seconds) > greatest(from_at, 0)
),

-- Where the set of covering segments changes: a segment's bit comes in at its start and goes at
-- its end. Arrival and gate-out cut the timeline too.
changes as (
    select declaration_id, 0 as at_offset, cast(0 as bigint) as bit_change from in_base
    union all
    select declaration_id, total_seconds, 0 as bit_change from in_base
    union all
    select declaration_id, from_offset, bit from segments
    union all
    select declaration_id, to_offset, -bit as bit_change from segments
),

-- The pieces between one change and the next, with the bits of the segments covering them: the
-- running sum over all changes up to and including the piece's start (a range frame, so the
-- changes at one offset count together; of the rows at one offset only the last has seconds).
pieces as (
    select
        declaration_id,
        lead(at_offset) over (partition by declaration_id order by at_offset) - at_offset as seconds,
        sum(bit_change) over (
            partition by declaration_id order by at_offset range between unbounded preceding and current row
        ) as covering_bits
    from changes
),

-- Each piece to its covering segment of lowest precedence (the lowest bit set), or to
-- 'unattributed'.
party_seconds as (
    select
        p.declaration_id,
        coalesce(s.party, 'unattributed') as party,
        sum(p.seconds) as seconds
    from pieces as p
    left join segment_bits as s on p.covering_bits & -p.covering_bits = s.bit
    where p.seconds > 0
    group by p.declaration_id, coalesce(s.party, 'unattributed')
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
{{ in_date_order_on_full_build('d.reference_date', incremental) }}
