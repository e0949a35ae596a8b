-- The derived series (tilvisningsboliger, dwellings for disadvantaged households, residents 80+ in
-- municipal care) on the cohort structure, computed from the cohort structure's own harmonised inputs
-- (macros/derived_measures.sql, as int_derived_measures on the reference structure): the cohort year's
-- figures are exactly as reported, never shared back from today's codes.
{{ derived_measures(ref('int_cohort_measures_harmonised')) }}
