"""boligsosial: the Dagster code location and the Python side of the warehouse."""

import os

# Arrow's default allocator keeps freed pages for reuse; the system one gives them back (orchestration/memory.py).
# Set before pandas loads pyarrow, and inherited by dbt's process, whose Python models convert through Arrow.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
