{{ config(severity='warn') }}
-- Codes the report shows without a name in display_labels (it shows the code instead): the
-- SLA catalogue's indicators and the parties of trs_party_segments.
select 'indicator' as kind, indicator_code as code from {{ ref('sla_catalogue') }}
union
select 'party' as kind, party as code from {{ ref('trs_party_segments') }}
union
select 'party' as kind, 'unattributed' as code
except
select kind, code from {{ ref('display_labels') }}
