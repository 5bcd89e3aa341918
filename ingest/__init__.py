"""The Single Window performance warehouse's Python side, one subpackage per stage:

landing/       files as delivered -> door checks -> raw tables (or quarantine)
run/           the nightly run's ordered steps: dbt build, mart checks, publish
serving/       what readers get from the published snapshot: the report, summaries
sample_world/  the bundled sample world (one generator per source kind)
"""

import os

# Before any Great Expectations import, wherever it happens: no analytics calls (offline).
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
