"""Gunicorn reads this from the working folder: its own log lines in the project's format."""

logger_class = "bootstrap.gunicorn_logs.Logger"
