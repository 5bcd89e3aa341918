-- When the alert step first saw each breach (ingest/run/alerts.py): kpi_alerts reads it, so the
-- first sighting survives every rebuild of the marts.
select
    alert_key,
    first_seen_at,
    first_seen_batch
from {{ source('meta', 'alert_log') }}
