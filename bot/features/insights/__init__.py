"""Anonymised figures in Monitor terms: tallies, suppression of small cells, the chart."""
