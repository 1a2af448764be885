"""Ports to the outside world and their real adapters."""
