"""The local stack: embedded services and the one-command runner."""
