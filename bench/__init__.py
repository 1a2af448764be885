"""Benchmarks of the pipeline's steps against the database limits that bound them."""
