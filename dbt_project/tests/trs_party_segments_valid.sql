-- Rows of the seed trs_party_segments that break its rules (seeds/trs_party_segments.yml): a
-- milestone int_declaration_milestones does not have, no party or the reserved 'unattributed',
-- no precedence, a segment name or precedence used twice, or more segments than the 63 bits
-- int_trs_party_seconds gives them in a bigint. One test for every rule.
{%- set milestones = ['arrival', 'lodgement', 'acceptance', 'cs_channel', 'inspection_start', 'inspection_end',
                      'oga_permit', 'payment', 'release', 'gate_out'] %}
select s.*, 'rule' as broken
from {{ ref('trs_party_segments') }} as s
where not (
        segment is not null and party is not null and party <> 'unattributed' and precedence is not null
        and from_milestone in (
            '{{ milestones | join("', '") }}'
        )
        and to_milestone in (
            '{{ milestones | join("', '") }}'
        )
    )
union all
select s.*, 'segment or precedence used twice' as broken
from {{ ref('trs_party_segments') }} as s
where s.segment in (select segment from {{ ref('trs_party_segments') }} group by segment having count(*) > 1)
    or s.precedence in (select precedence from {{ ref('trs_party_segments') }} group by precedence having count(*) > 1)
union all
select s.*, 'more than 63 segments (int_trs_party_seconds gives each a bit of a bigint)' as broken
from {{ ref('trs_party_segments') }} as s
where (select count(*) from {{ ref('trs_party_segments') }}) > 63
