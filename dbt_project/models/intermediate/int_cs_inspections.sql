{{ config(materialized='view') }}
-- One row per import declaration that the C/S inspection mart counts, from two sources that
-- never mix in one mart row:
-- * kcs_extract: the KCS extract holds inspected declarations only, so every row is an
--   inspection; detection = Fraud 1, critical detection = Critical Fraud 2; the population of
--   all declarations is unknown.
-- * clearance_log: every import declaration of the sample world's clearance logs; inspected =
--   C/S channel yellow or red, or an inspection result logged; detection = inspection result
--   'violation'. The logs carry no critical outcome (null) and no import type.
-- value_krw is DECIMAL(38, 2): each value rounded to the cent before any sum, so sums are exact.
-- _changed_at (when the row last changed: KCS load time, or the milestone model's refresh time)
-- drives the mart's incremental rebuild.

select
    'kcs_extract' as source,
    declaration_id,
    declaration_date as reference_date,
    customs_office,
    transport_mode,
    import_type,
    true as is_inspected,
    is_fraud as is_detected,
    is_critical_fraud as is_critical_detected,
    cast(item_price_krw as decimal(38, 2)) as value_krw,
    _loaded_at as _changed_at
from {{ ref('stg_kcs__import_declarations') }}

union all

select
    'clearance_log' as source,
    declaration_id,
    reference_date,
    customs_office,
    transport_mode,
    cast(null as {{ string_type() }}) as import_type,
    channel in ('yellow', 'red') or inspection_result is not null as is_inspected,
    coalesce(inspection_result = 'violation', false) as is_detected,
    cast(null as boolean) as is_critical_detected,
    cast(declared_value_krw as decimal(38, 2)) as value_krw,
    _refreshed_at as _changed_at
from {{ ref('int_declaration_milestones') }}
where declaration_type = 'import'
