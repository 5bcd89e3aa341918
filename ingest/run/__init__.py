"""The run: the nightly run's ordered steps (``steps.STEPS``; what each does: ``pipeline.ACTIONS``), shared by the Airflow DAG and
``swpm run``: build (dbt) -> check (the marts' GX checkpoint) -> publish (the read-only
snapshot) -> report, after the load and a changes-pending gate; and the run log."""
