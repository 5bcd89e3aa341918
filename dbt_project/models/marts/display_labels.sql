{{ config(materialized='view') }}
-- Names to show for the codes the marts hold (modes, declaration types, channels, offices, SLA
-- indicators, parties, cohort comparisons, C/S sources, SLA bands), in English and Korean: the
-- seed display_labels, published with the marts so that the report and BI tools read the names
-- from the same snapshot as the figures.
select
    kind,
    code,
    name_en,
    name_ko
from {{ ref('code_labels') }}
