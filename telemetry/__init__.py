"""Prometheus metrics: what the processes count, and how each process kind serves them.

Imported by the intake, the dispatcher and the workers alike, so it imports none of them.
"""
