"""Serving the marts to BI: PostgreSQL publication (postgres.py) and Parquet/CSV exports (exports.py),
both checked against the dbt contracts (contract.py). No Dagster imports here: assets/serve.py wraps them."""
