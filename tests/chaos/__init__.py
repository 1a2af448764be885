"""Fault injection against the whole system under load, judged by a scorecard: `make chaos`."""
