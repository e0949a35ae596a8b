"""Loaders with no Dagster imports (the target layout of issue 10)."""
