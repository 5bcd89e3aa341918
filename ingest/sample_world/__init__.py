"""The bundled sample world: what ``swpm generate`` writes into landing/.

registry     the generators, one per source kind, in the order they run
spec         what a sample world is asked for, and what a generator reports
clearance    clearance logs (declarations and milestone events), calibrated to the TRS anchors
itsm         ITSM incident and service-request exports, the e-document processing log
survey, usage, ledger   the Balanced Scorecard's yearly files (CSV and XLSX)
calibration  the Balanced Scorecard's calibration to the case study
files        deterministic, atomic file writing (gzip, XLSX) and yearly file dates
"""
