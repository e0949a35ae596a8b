"""The raw tables the KLASS loader writes (schema raw): one home for their names, cheap to import (the
change check reads it before anything heavy loads)."""

CODES_TABLE = "klass_municipality_codes"
CHANGES_TABLE = "klass_changes"
GROUPS_TABLE = "klass_kostra_groups"
