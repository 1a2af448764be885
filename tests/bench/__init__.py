"""Smoke tests that run the benchmarks with tiny numbers, so they keep working."""
