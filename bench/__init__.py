"""Benchmarks: each bench/*_bench.py module has run() -> dict; `python -m bench` runs them all."""
