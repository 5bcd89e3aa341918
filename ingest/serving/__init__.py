"""Serving: what readers get from the published snapshot (``home.snapshot``, read-only): the HTML
report, the headline and the C/S summary that ``make demo`` prints."""
