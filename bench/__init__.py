"""Benchmarks that print ratios and counts measured side by side: ``python -m bench``."""
