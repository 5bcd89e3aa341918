{# Who holds the time (int_trs_party_seconds, docs/trs.md): CTEs that end in `party_rows`, one
   row per declaration of `declarations` and party holding some of its seconds from arrival to
   gate-out (the declaration's columns, party and seconds), and one row with no party and 0
   seconds for a declaration outside the base. `declarations` has declaration_id, total_seconds and
   <milestone>_offset for each of `milestones` (seconds after arrival). The segments and parties
   are the seed trs_party_segments: every second goes to the covering segment of lowest
   precedence, a second no segment covers to 'unattributed'. #}
{% macro trs_party_rows(declarations, milestones) -%}
    {{ return(adapter.dispatch('trs_party_rows')(declarations, milestones)) }}
{%- endmacro %}

{# The milestones a segment can start or end at, and the declaration columns int_trs_party_seconds
   carries. #}
{% macro trs_party_milestones() -%}
    {{ return(['arrival', 'lodgement', 'acceptance', 'cs_channel', 'inspection_start', 'inspection_end',
               'oga_permit', 'payment', 'release', 'gate_out']) }}
{%- endmacro %}

{% macro trs_party_declaration_columns() -%}
    {{ return(['declaration_id', 'declaration_type', 'transport_mode', 'channel', 'customs_office', 'reference_date']) }}
{%- endmacro %}

{# The declarations of `milestones_relation` (int_declaration_milestones) with a reference date and
   `condition` (SQL, or none), as int_trs_party_seconds reads them: the columns it carries, each
   milestone's offset in seconds after arrival (<milestone>_offset) and total_seconds, arrival
   to gate-out. `trs_party_in_base('d')` picks those with seconds to attribute. #}
{% macro trs_party_declarations(milestones_relation, condition=none) -%}
    select
        {%- for column in trs_party_declaration_columns() %}
        {{ column }},
        {%- endfor %}
        _refreshed_at,
        {%- for milestone in trs_party_milestones() %}
        {{ whole_seconds(hours_between('arrival_at', milestone ~ '_at')) }} as {{ milestone }}_offset,
        {%- endfor %}
        {{ whole_seconds(hours_between('arrival_at', 'gate_out_at')) }} as total_seconds
    from {{ milestones_relation }}
    where reference_date is not null
        {%- if condition %}
        and {{ condition }}
        {%- endif %}
{%- endmacro %}

{# The base: arrival, release and gate-out logged, gate-out after arrival. #}
{% macro trs_party_in_base(alias) -%}
    {{ alias }}.arrival_offset = 0 and {{ alias }}.release_offset is not null and {{ alias }}.total_seconds > 0
{%- endmacro %}

{# The offset of the milestone named in `name` (a SQL expression), from the declaration `alias`. #}
{% macro trs_party_milestone_offset(name, alias, milestones) -%}
    case {{ name }}
        {%- for milestone in milestones %}
        when '{{ milestone }}' then {{ alias }}.{{ milestone }}_offset
        {%- endfor %}
    end
{%- endmacro %}

{# DuckDB: row by row, in lists. Each declaration's segments, clipped to arrival .. gate-out, cut
   its time into pieces at every segment end; each piece goes to the first segment covering it
   in order of precedence. The portable version (default__) orders all the declarations'
   segment ends in one window: at a year (16 million declarations, over 100 million ends) that
   sort spilled past the memory limit and took four minutes of the rebuild. #}
{% macro duckdb__trs_party_rows(declarations, milestones) -%}
party_seed as (
    select
        -- An empty seed: no segment, every second 'unattributed' (a list of none, not NULL).
        coalesce(list(
            {'from_milestone': from_milestone, 'to_milestone': to_milestone, 'party': party}
            order by precedence, segment
        ), []) as segments,
        list_distinct(list_append(list(party), 'unattributed')) as parties
    from {{ ref('trs_party_segments') }}
),

-- The logged segments of each declaration in the base, in order of precedence, clipped; a segment
-- with an end not logged, or no time after arrival, drops out. NULL outside the base.
party_segments as (
    select
        d.*,
        p.parties,
        case when {{ trs_party_in_base('d') }} then list_filter(
            list_transform(
                list_filter(
                    list_transform(p.segments, lambda s: {
                        'from_at': {{ trs_party_milestone_offset('s.from_milestone', 'd', milestones) }},
                        'to_at': {{ trs_party_milestone_offset('s.to_milestone', 'd', milestones) }},
                        'party': s.party
                    }),
                    lambda s: s.from_at is not null and s.to_at is not null
                ),
                lambda s: {'from_at': greatest(s.from_at, 0), 'to_at': least(s.to_at, d.total_seconds), 'party': s.party}
            ),
            lambda s: s.to_at > s.from_at
        ) end as party_segments
    from {{ declarations }} as d
    cross join party_seed as p
),

-- The pieces between one cut and the next (arrival, gate-out and every segment end), each to the
-- first segment covering it, or to 'unattributed'.
party_pieces as (
    select
        *,
        list_transform(range(1, len(cuts)), lambda i: {
            'party': coalesce(
                list_filter(party_segments, lambda s: s.from_at <= cuts[i] and s.to_at >= cuts[i + 1])[1].party,
                'unattributed'
            ),
            'seconds': cuts[i + 1] - cuts[i]
        }) as pieces
    from (
        select
            *,
            list_sort(list_distinct(flatten([
                [0, total_seconds],
                list_transform(party_segments, lambda s: s.from_at),
                list_transform(party_segments, lambda s: s.to_at)
            ]))) as cuts
        from party_segments
    ) as cut
),

-- Each party's seconds: the sum of its pieces, for the parties holding some. A declaration
-- outside the base keeps one row with no party.
party_rows as (
    select
        * exclude (held, parties, party_segments, cuts, pieces),
        held.party,
        held.seconds
    from (
        select
            *,
            unnest(case
                when party_segments is null then [{'party': cast(null as varchar), 'seconds': cast(0 as hugeint)}]
                else list_filter(
                    list_transform(parties, lambda p: {
                        'party': p,
                        'seconds': list_sum(list_transform(list_filter(pieces, lambda x: x.party = p), lambda x: x.seconds))
                    }),
                    lambda x: x.seconds > 0
                )
            end) as held
        from party_pieces
    ) as unnested
)
{%- endmacro %}

{# Portable SQL: the segments of all declarations in one table, their ends ordered per
   declaration by a window. #}
{% macro default__trs_party_rows(declarations, milestones) -%}
in_base as (
    select * from {{ declarations }} as d
    where {{ trs_party_in_base('d') }}
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
        {{ trs_party_milestone_offset('s.from_milestone', 'd', milestones) }} as from_at,
        {{ trs_party_milestone_offset('s.to_milestone', 'd', milestones) }} as to_at,
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
),

party_rows as (
    select
        d.*,
        p.party,
        coalesce(p.seconds, 0) as seconds
    from {{ declarations }} as d
    left join party_seconds as p on d.declaration_id = p.declaration_id
)
{%- endmacro %}
