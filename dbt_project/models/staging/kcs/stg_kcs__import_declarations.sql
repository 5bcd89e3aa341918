-- One row per KCS import declaration: the version from the most recently loaded file wins (a
-- corrected re-delivery replaces the earlier one). Codes stay as delivered; only the documented
-- outcome codes get a label (seed kcs_outcome_labels). Identifiers arrive already pseudonymised.
with ranked as (
    select
        *,
        row_number() over (
            partition by {{ adapter.quote('Declaration ID') }}
            order by _loaded_at desc, _source_file desc, _source_line desc
        ) as version_rank
    from {{ source('kcs', 'kcs_import_declarations') }}
),

outcome_labels as (
    select code, label from {{ ref('kcs_outcome_labels') }} where attribute = 'Critical Fraud'
)

select
    r.{{ adapter.quote('Declaration ID') }} as declaration_id,
    r.{{ adapter.quote('Date') }} as declaration_date,
    r.{{ adapter.quote('Office ID') }} as customs_office,
    r.{{ adapter.quote('Process Type') }} as process_type,
    r.{{ adapter.quote('Import Type') }} as import_type,
    r.{{ adapter.quote('Import Use') }} as import_use,
    r.{{ adapter.quote('Payment Type') }} as payment_type,
    r.{{ adapter.quote('Mode of Transport') }} as transport_mode,
    r.{{ adapter.quote('Declarant ID') }} as declarant_pseudonym,
    r.{{ adapter.quote('Importer ID') }} as importer_pseudonym,
    r.{{ adapter.quote('Seller ID') }} as seller_pseudonym,
    r.{{ adapter.quote('Courier ID') }} as courier_pseudonym,
    r.{{ adapter.quote('HS6 Code') }} as hs6_code,
    r.{{ adapter.quote('Country of Departure') }} as country_of_departure,
    r.{{ adapter.quote('Country of Origin') }} as country_of_origin,
    r.{{ adapter.quote('Tax Rate') }} as tax_rate_pct,
    r.{{ adapter.quote('Tax Type') }} as tax_type,
    r.{{ adapter.quote('Country of Origin Indicator') }} as origin_indicator,
    r.{{ adapter.quote('Net Mass') }} as net_mass_kg,
    r.{{ adapter.quote('Item Price') }} as item_price_krw,
    r.{{ adapter.quote('Fraud') }} as fraud,
    r.{{ adapter.quote('Critical Fraud') }} as critical_fraud,
    r.{{ adapter.quote('Fraud') }} = 1 as is_fraud,
    r.{{ adapter.quote('Critical Fraud') }} = 2 as is_critical_fraud,
    l.label as outcome_label,
    r._source_file,
    r._batch_id,
    r._loaded_at
from ranked as r
left join outcome_labels as l on l.code = r.{{ adapter.quote('Critical Fraud') }}
where r.version_rank = 1
