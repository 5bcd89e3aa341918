-- One row per KCS import declaration: the version from the most recently loaded file wins (a
-- corrected re-delivery replaces the earlier one). Codes stay as delivered; only the documented
-- outcome codes get a label (seed kcs_outcome_labels). Identifiers arrive already pseudonymised.
with ranked as (
    select
        *,
        row_number() over (
            partition by "Declaration ID"
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from {{ source('kcs', 'kcs_import_declarations') }}
),

outcome_labels as (
    select code, label from {{ ref('kcs_outcome_labels') }} where attribute = 'Critical Fraud'
)

select
    r."Declaration ID" as declaration_id,
    r."Date" as declaration_date,
    r."Office ID" as customs_office,
    r."Process Type" as process_type,
    r."Import Type" as import_type,
    r."Import Use" as import_use,
    r."Payment Type" as payment_type,
    r."Mode of Transport" as transport_mode,
    r."Declarant ID" as declarant_pseudonym,
    r."Importer ID" as importer_pseudonym,
    r."Seller ID" as seller_pseudonym,
    r."Courier ID" as courier_pseudonym,
    r."HS6 Code" as hs6_code,
    r."Country of Departure" as country_of_departure,
    r."Country of Origin" as country_of_origin,
    r."Tax Rate" as tax_rate_pct,
    r."Tax Type" as tax_type,
    r."Country of Origin Indicator" as origin_indicator,
    r."Net Mass" as net_mass_kg,
    r."Item Price" as item_price_krw,
    r."Fraud" as fraud,
    r."Critical Fraud" as critical_fraud,
    r."Fraud" = 1 as is_fraud,
    r."Critical Fraud" = 2 as is_critical_fraud,
    l.label as outcome_label,
    r._source_file,
    r._batch_id,
    r._loaded_at
from ranked as r
left join outcome_labels as l on l.code = r."Critical Fraud"
where r.version_rank = 1
