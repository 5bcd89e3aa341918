-- Time Release Study by segment: the time between consecutive milestones, for the same
-- periods and groups as trs_release_time. A declaration counts in a segment when both of its
-- milestones are logged; negative values (pre-arrival lodgement) are kept.
-- Each segment is computed by its own incremental model (models/intermediate/trs/): exact
-- percentiles hold every value of a group in memory, and one segment at a time keeps a full
-- rebuild of a year within memory (docs/performance.md). This table puts them together.
{%- for segment in trs_segments() %}
select * from {{ ref('int_trs_segment__' ~ segment) }}
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
