-- One row per respondent and wave, from both delivery formats (CSV and XLSX exports of the
-- same survey tool). A corrected re-delivery of a wave replaces the earlier version of each row.
{%- set columns = ['respondent_id', 'wave', 'segment', 'response_date'] + survey_items()
    + ['_source_file', '_source_line', '_batch_id', '_loaded_at'] %}
with delivered as (
    select {{ columns | join(', ') }}, 'csv' as source_format from {{ source('survey', 'satisfaction_survey_csv') }}
    union all
    select {{ columns | join(', ') }}, 'xlsx' as source_format from {{ source('survey', 'satisfaction_survey_xlsx') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by wave, respondent_id
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from delivered
)

select
    respondent_id,
    wave,
    cast(left(wave, 4) as integer) as survey_year,
    case segment
        when 'BROKER' then 'customs_broker'
        when 'IMPORTER' then 'importer'
        when 'EXPORTER' then 'exporter'
        when 'FORWARDER' then 'forwarder'
        when 'OGA' then 'oga'
    end as segment,
    response_date,
    q01_overall_satisfaction,
    q02_ease_of_use,
    q03_processing_speed,
    q04_system_stability,
    q05_helpdesk_support,
    q06_information_accuracy,
    source_format,
    _source_file,
    _batch_id,
    _loaded_at
from ranked
where version_rank = 1
