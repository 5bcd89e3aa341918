{{ config(severity='warn') }}
-- Declarations whose events arrived without a declaration row (counted with unknown type, mode and
-- office), among those changed since the last successful build (all on a full refresh). The
-- milestones already joined each declaration's events to its row: looking the night's events up
-- in the staged declarations read every declaration number held.
select declaration_id, event_count, _last_loaded_at
from {{ ref('int_declaration_milestones') }}
where not has_declaration_row and _last_loaded_at > {{ last_build_loaded_through() }}
