"""Landing: files as delivered -> the warehouse's raw tables.

discover (new files) -> read (CSV, gzip, XLSX) -> checks (types, order, GX door suite)
-> load (one transaction, with lineage) or quarantine (with a reason).
"""
