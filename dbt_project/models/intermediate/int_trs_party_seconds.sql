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
{%- set mapping_version = reference_fingerprint(
    ref('trs_party_segments'), ['segment', 'from_milestone', 'to_milestone', 'party', 'precedence']
) %}
{%- set incremental = is_incremental() and not reference_changed(mapping_version) %}

{%- set changed = '_refreshed_at > ' ~ watermark_literal(this, '_refreshed_at') if incremental else none %}

with declarations as (
    {{ trs_party_declarations(ref('int_declaration_milestones'), changed) }}
),

{{ trs_party_rows('declarations', trs_party_milestones()) }}

-- Every declaration this build recomputes has a row, those outside the base one with no party,
-- so that delete+insert also clears the rows of a declaration that left the base.
select
    {%- for column in trs_party_declaration_columns() %}
    {{ column }},
    {%- endfor %}
    party,
    seconds,
    case when party is not null then total_seconds end as total_seconds,
    {{ mapping_version }} as reference_version,
    _refreshed_at
from party_rows
{{ in_date_order_of_input_on_full_build('reference_date', incremental) }}
