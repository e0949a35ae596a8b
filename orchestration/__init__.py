"""boligsosial: the Dagster code location and the Python side of the warehouse."""

import os

# Arrow's default allocator keeps freed pages for reuse; the system one gives them back (orchestration/memory.py).
# Arrow reads this when pandas loads it, so it holds where the package is imported first (the CLI, the definitions),
# and dbt's process inherits it (its Python models convert through Arrow); the Makefile sets it for everything.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
