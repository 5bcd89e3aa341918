{% test kcs_outcome_codes_agree(model) %}
-- The two KCS outcome columns must tell the same story: Fraud = 1 exactly when Critical Fraud
-- is 1 or 2. A warning names the declarations; the mart counts Fraud and Critical Fraud as given.
select declaration_id, fraud, critical_fraud, _source_file
from {{ model }}
where (fraud = 1) <> (critical_fraud in (1, 2))
{% endtest %}
