-- The measure pool of the cohort structure: int_cohort_measures_harmonised plus the derived series computed
-- on the same codes (int_cohort_derived_measures), in the shape of int_indicator_inputs (one macro).
{{ indicator_inputs(ref('int_cohort_measures_harmonised'), ref('int_cohort_derived_measures')) }}
