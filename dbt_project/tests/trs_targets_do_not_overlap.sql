-- Two targets of one mode and declaration type valid on the same day: a declaration would be
-- held to both (and counted twice in int_trs_release_outcomes).
select a.transport_mode, a.declaration_type, a.valid_from, b.valid_from as overlapping_from
from {{ ref('trs_targets') }} as a
inner join {{ ref('trs_targets') }} as b
    on a.transport_mode = b.transport_mode
        and a.declaration_type = b.declaration_type
        and a.valid_from < b.valid_from
        and (a.valid_to is null or a.valid_to >= b.valid_from)
