"""Smoke tests of the benchmarks: each still runs end to end on tiny numbers, so none can rot."""
