{# Hours between two timestamps (negative when `to_ts` is earlier, e.g. pre-arrival lodgement). #}
{% macro hours_between(from_ts, to_ts) -%}
    (epoch({{ to_ts }}) - epoch({{ from_ts }})) / 3600.0
{%- endmacro %}

{# The TRS grouping sets shared by the release-time and segment marts. `extra` is prepended to
   every set (e.g. the segment). #}
{% macro trs_grouping_sets(extra=[]) -%}
    {%- set head = ['period_type', 'period_start'] + extra -%}
    grouping sets (
        ({{ head | join(', ') }}),
        ({{ head | join(', ') }}, declaration_type),
        ({{ head | join(', ') }}, declaration_type, transport_mode),
        ({{ head | join(', ') }}, declaration_type, transport_mode, channel),
        ({{ head | join(', ') }}, declaration_type, transport_mode, customs_office)
    )
{%- endmacro %}

{# Dimension value of a grouped row: 'ALL' where the set rolls the dimension up. #}
{% macro rollup_dim(column) -%}
    case when grouping({{ column }}) = 1 then 'ALL' else {{ column }} end
{%- endmacro %}

{% macro trs_grouping_set_name() -%}
    case
        when grouping(declaration_type) = 1 then 'period'
        when grouping(transport_mode) = 1 then 'period+type'
        when grouping(channel) = 0 then 'period+type+mode+channel'
        when grouping(customs_office) = 0 then 'period+type+mode+office'
        else 'period+type+mode'
    end
{%- endmacro %}

{# The rows of `relation` (one per declaration, or per declaration and segment) placed in their
   month and in their year. On an incremental run only the months and years that received
   declarations recomputed since this mart was last built, whose old rows delete+insert
   replaces whole; on a full build, every period. #}
{% macro trs_period_rows(relation) -%}
    {%- if is_incremental() -%}
    {%- set changed_months -%}
        select distinct date_trunc('month', reference_date)
        from {{ ref('int_declaration_milestones') }}
        where _refreshed_at > (select coalesce(max(source_refreshed_at), '1900-01-01'::timestamp) from {{ this }})
          and reference_date is not null
    {%- endset -%}
    {%- endif %}
    select 'month' as period_type, cast(date_trunc('month', reference_date) as date) as period_start, *
    from {{ relation }}
    {% if is_incremental() -%}
    where date_trunc('month', reference_date) in ({{ changed_months }})
    {%- endif %}
    union all
    select 'year' as period_type, cast(date_trunc('year', reference_date) as date) as period_start, *
    from {{ relation }}
    {% if is_incremental() -%}
    where date_trunc('year', reference_date) in (select date_trunc('year', m) from ({{ changed_months }}) as c(m))
    {%- endif %}
{%- endmacro %}
