-- Rows of the seed trs_targets that break its rules (seeds/trs_targets.yml): an unknown mode or
-- declaration type, a target that is not positive, validity ending before it starts, or two
-- rows of one mode and type valid on the same day (a declaration would be held to both and
-- counted twice in int_trs_release_outcomes). One test for all the rules: a node per nightly build.
select t.*, 'rule' as broken
from {{ ref('trs_targets') }} as t
where not (
        transport_mode in ('air', 'sea', 'land') and declaration_type in ('import', 'export')
        and target_hours > 0 and valid_from is not null and (valid_to is null or valid_to >= valid_from)
    )
union all
select a.*, 'overlaps the row valid from ' || cast(b.valid_from as {{ string_type() }}) as broken
from {{ ref('trs_targets') }} as a
inner join {{ ref('trs_targets') }} as b
    on a.transport_mode = b.transport_mode
        and a.declaration_type = b.declaration_type
        and a.valid_from <= b.valid_from
        and (a.valid_to is null or a.valid_to >= b.valid_from)
        and (
            a.valid_from < b.valid_from
            or a.target_hours is distinct from b.target_hours
            or a.valid_to is distinct from b.valid_to
        )
union all
select t.*, 'two rows valid from the same day' as broken
from {{ ref('trs_targets') }} as t
inner join (
    select transport_mode, declaration_type, valid_from
    from {{ ref('trs_targets') }}
    group by transport_mode, declaration_type, valid_from
    having count(*) > 1
) as twice
    on twice.transport_mode = t.transport_mode
        and twice.declaration_type = t.declaration_type
        and twice.valid_from = t.valid_from
