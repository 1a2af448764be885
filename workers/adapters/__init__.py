"""The adapters: one module per outside system (the ports are in models/ports.py), and fakes."""
