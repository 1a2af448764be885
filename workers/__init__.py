"""Celery app and tasks, the SQS dispatcher, the outbox relay and adapters to the outside.

Importing this package imports no Celery: the intake uses its SQS adapter without it.
"""
