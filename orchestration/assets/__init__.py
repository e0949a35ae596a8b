"""Dagster assets, one module per source plus the dbt models, the quality checks and publication."""
