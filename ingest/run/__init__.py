"""The run: the nightly run's ordered steps (``pipeline.STEPS``), shared by the Airflow DAG and
``swpm run``: build (dbt) -> check (the marts' GX checkpoint) -> publish (the read-only
snapshot) -> report, after the load and a changes-pending gate; and the run log."""
