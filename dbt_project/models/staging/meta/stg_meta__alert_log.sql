-- When the alert step first saw each breach (meta.alert_log, ingest/run/alerts.py): kpi_alerts
-- reads it, so the first sighting survives every rebuild of the marts.
select
    alert_key,
    first_seen_at
from {{ source('meta', 'alert_log') }}
